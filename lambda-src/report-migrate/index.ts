/**
 * report-migrate: applies the versioned schema (migrations.ts). Idempotent: applied versions are in
 * schema_migrations with their checksum; a re-run applies nothing, and a changed released migration
 * is refused (PermanentError) instead of silently diverging. A named lock serialises concurrent runs.
 */
import * as crypto from 'crypto';
import { withConnection } from '../shared/db';
import { PermanentError, RetryableError } from '../shared/errors';
import { createLogger, powertoolsHandler } from '../shared/powertools';
import { MIGRATIONS } from './migrations';

const logger = createLogger('report-migrate');

export interface MigrateResult {
  applied: number[];
  current: number;
}

export function checksum(statements: string[]): string {
  return crypto.createHash('sha256').update(statements.join('\n;\n')).digest('hex');
}

/** Invoked with any event (the deployment's invocation passes `{}`): nothing in it is read. */
export const handler = powertoolsHandler('report-migrate', logger, async (_event: void | Record<string, unknown>): Promise<MigrateResult> => withConnection('report-migrate', async (conn) => {
  const [lock] = await conn.query("SELECT GET_LOCK('report_migrate', 30) AS got");
  if ((lock as Array<{ got: number | string }>)[0]?.got?.toString() !== '1') {
    throw new RetryableError('report-migrate: another migration holds the lock');
  }
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INT NOT NULL PRIMARY KEY,
      name VARCHAR(200) NOT NULL,
      checksum CHAR(64) NOT NULL,
      applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    const [rows] = await conn.query('SELECT version, checksum FROM schema_migrations ORDER BY version');
    const applied = new Map((rows as Array<{ version: number; checksum: string }>).map((r) => [Number(r.version), r.checksum]));
    const done: number[] = [];
    for (const m of MIGRATIONS) {
      const sum = checksum(m.statements);
      const existing = applied.get(m.version);
      if (existing !== undefined) {
        if (existing !== sum) throw new PermanentError(`migration ${m.version} (${m.name}) changed after it was applied: add a new version instead`);
        continue;
      }
      for (const sql of m.statements) await conn.query(sql);
      await conn.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [m.version, m.name, sum]);
      done.push(m.version);
      logger.info('migration applied', { version: m.version, name: m.name });
    }
    return { applied: done, current: MIGRATIONS[MIGRATIONS.length - 1].version };
  } finally {
    await conn.query("SELECT RELEASE_LOCK('report_migrate')");
  }
}));
