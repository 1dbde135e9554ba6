# syntax=docker/dockerfile:1
# The service as an image: `docker compose up --build` runs it with PostgreSQL and Redis.
# Two stages: `build` compiles with the dev dependencies, `runtime` holds the compiled
# service and the production dependencies only, and runs as the unprivileged `node` user.
# npm's cache is a BuildKit cache mount: rebuilds reuse it and no layer keeps it.
# CI runs these same steps without a Docker engine: scripts/check-container.ts.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Install scripts are skipped: Prisma's would try to download engines; the client is
# generated below from the wasm engine, with no download.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-generate.mjs ./scripts/
COPY src ./src
# The generated client is TypeScript under src/generated, so tsc compiles it into dist/ with the rest.
RUN node scripts/prisma-generate.mjs && npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
# Production dependencies only. Optional ones are left out too: npm counts the Prisma CLI and
# TypeScript (optional peers of @prisma/client) as such, and the embedded PostgreSQL's binaries
# (the image always runs on DATABASE_URL) and pg's Cloudflare socket are unused here.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The server applies these at every start (src/server.ts), under an advisory lock.
COPY prisma/migrations ./prisma/migrations
# Files stay root's: the service writes nothing to its own folder.
USER node
EXPOSE 3000
# Ready once the database answers; an operator makes the first API key with
#   docker compose exec api node dist/cli/keys.js create --name admin --role admin
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The flags of `npm start` (scripts/check-container.ts checks they agree); why: docs/operations.md, "Node flags".
CMD ["node", "--no-memory-reducer", "dist/server.js"]
