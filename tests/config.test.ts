import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', LOG_LEVEL: 'info', EMBEDDED_PG_PORT: 5433 });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads and coerces the values it is given, treating empty strings as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://u@db:5432/events',
      LOG_LEVEL: 'warn',
      PUBLIC_URL: '',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://u@db:5432/events',
      LOG_LEVEL: 'warn',
    });
    expect(config.PUBLIC_URL).toBeUndefined();
  });

  it('lets exports hold at most the whole pool, half of it unless told', () => {
    expect(loadConfig({}).EXPORT_MAX_CONCURRENT).toBeUndefined();
    expect(loadConfig({ DATABASE_POOL_SIZE: '4', EXPORT_MAX_CONCURRENT: '4' }).EXPORT_MAX_CONCURRENT).toBe(4);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '4', EXPORT_MAX_CONCURRENT: '5' })).toThrow(
      /EXPORT_MAX_CONCURRENT: must be at most DATABASE_POOL_SIZE \(4\)/,
    );
  });

  it('bounds every statement and both kinds of slots, with a share per client no larger than the whole', () => {
    expect(loadConfig({})).toMatchObject({
      READ_STATEMENT_TIMEOUT_MS: 5_000,
      WRITE_STATEMENT_TIMEOUT_MS: 5_000,
      EXPENSIVE_STATEMENT_TIMEOUT_MS: 15_000,
      EXPORT_STATEMENT_TIMEOUT_MS: 1_800_000,
      IMPORT_STATEMENT_TIMEOUT_MS: 60_000,
      EXPORT_MIN_BYTES_PER_SECOND: 16_384,
      EXPORT_SLOW_WINDOW_MS: 10_000,
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: 1_000,
    });
    expect(loadConfig({ EXPENSIVE_MAX_CONCURRENT: '4', EXPENSIVE_MAX_PER_CLIENT: '4' }).EXPENSIVE_MAX_PER_CLIENT).toBe(
      4,
    );
    expect(() => loadConfig({ EXPENSIVE_MAX_CONCURRENT: '2', EXPENSIVE_MAX_PER_CLIENT: '3' })).toThrow(
      /EXPENSIVE_MAX_PER_CLIENT: must be at most EXPENSIVE_MAX_CONCURRENT \(2\)/,
    );
    expect(() => loadConfig({ EXPORT_MAX_CONCURRENT: '2', EXPORT_MAX_PER_CLIENT: '3' })).toThrow(
      /EXPORT_MAX_PER_CLIENT: must be at most/,
    );
    expect(() => loadConfig({ READ_STATEMENT_TIMEOUT_MS: '0' })).toThrow(ConfigError);
  });

  it('bounds what callers without a key run and how fast their exports stream', () => {
    // Unset: the machine's cores less one (connectDatabase); exports at 4 MiB/s.
    expect(loadConfig({}).ANONYMOUS_HEAVY_MAX_CONCURRENT).toBeUndefined();
    expect(loadConfig({}).EXPORT_ANONYMOUS_BYTES_PER_SECOND).toBe(4 * 1024 * 1024);
    expect(loadConfig({ ANONYMOUS_HEAVY_MAX_CONCURRENT: '3' }).ANONYMOUS_HEAVY_MAX_CONCURRENT).toBe(3);
    expect(() => loadConfig({ ANONYMOUS_HEAVY_MAX_CONCURRENT: '0' })).toThrow(/ANONYMOUS_HEAVY_MAX_CONCURRENT/);
    expect(() => loadConfig({ ANONYMOUS_HEAVY_MAX_CONCURRENT: 'two' })).toThrow(/ANONYMOUS_HEAVY_MAX_CONCURRENT/);
    expect(loadConfig({ EXPORT_ANONYMOUS_BYTES_PER_SECOND: '0' }).EXPORT_ANONYMOUS_BYTES_PER_SECOND).toBe(0);
    expect(loadConfig({ EXPORT_ANONYMOUS_BYTES_PER_SECOND: '1048576' }).EXPORT_ANONYMOUS_BYTES_PER_SECOND).toBe(
      1_048_576,
    );
    // A cap below the least a client must take would have the slow-client guard drop the export it slowed down.
    expect(() => loadConfig({ EXPORT_ANONYMOUS_BYTES_PER_SECOND: '8192' })).toThrow(
      /EXPORT_ANONYMOUS_BYTES_PER_SECOND: must be 0 or at least EXPORT_MIN_BYTES_PER_SECOND \(16384\)/,
    );
    expect(
      loadConfig({ EXPORT_ANONYMOUS_BYTES_PER_SECOND: '8192', EXPORT_MIN_BYTES_PER_SECOND: '4096' })
        .EXPORT_ANONYMOUS_BYTES_PER_SECOND,
    ).toBe(8192);
    expect(() => loadConfig({ EXPORT_ANONYMOUS_BYTES_PER_SECOND: '-1' })).toThrow(ConfigError);
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => p.startsWith('PORT:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('LOG_LEVEL:'))).toBe(true);
    expect((error as Error).message).toContain('PORT');
  });
});
