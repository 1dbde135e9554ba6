// The OpenAPI document as the code defines it, without a database: routes and
// schemas are registered by buildApp, and nothing connects until a request runs.
import { buildApp } from '../app.js';
import { connectDatabase } from '../db/client.js';

/** Builds the app on an unconnected pool and returns its OpenAPI document as committed text. */
export async function renderOpenApi(): Promise<string> {
  const db = connectDatabase('postgresql://unused@127.0.0.1:1/unused', 1);
  const app = await buildApp({ db });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await db.close();
  }
}
