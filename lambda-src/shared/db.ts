/**
 * Reporting database access (Aurora MySQL in AWS, MariaDB in tests) through mysql2/promise.
 *
 * Credentials come from the RDS-managed secret DB_SECRET_ARN ({username, password}); host, port and
 * database come from DB_HOST/DB_PORT/DB_NAME (contracts/lambda-environment.ts DATABASE_VARIABLES). The secret and the pool are cached per container; an
 * authentication failure drops both so the next attempt re-reads a rotated secret.
 * Local override: only when AWS_ENDPOINT_URL is set (local servers), DB_USER + DB_PASSWORD replace the
 * secret lookup, so `npm run local` can point at a MariaDB without Secrets Manager. In AWS the
 * override is ignored and TLS is required with the RDS CA bundle (mysql2's "Amazon RDS" profile).
 *
 * SQL here must run on MariaDB 10.11 and MySQL 8.0 alike (see LOCAL-SERVERS.md): `VALUES(col)` in
 * upserts, no `->>`, errors matched on codes both engines share.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2/promise';
import { localEndpoint, secrets } from './clients';
import { DATABASE_VARIABLES } from '../../contracts/lambda-environment';
import { optionalEnv, variablesOf } from './env';
import { classifyError, PermanentError, RetryableError } from './errors';

interface Credentials { username: string; password: string }

const databaseEnv = () => variablesOf('database environment', DATABASE_VARIABLES);

let cachedCredentials: Credentials | undefined;
let cachedPool: { pool: Pool; signature: string } | undefined;

async function credentials(): Promise<Credentials> {
  const user = optionalEnv('DB_USER');
  const password = process.env.DB_PASSWORD;
  if (localEndpoint() && user && password !== undefined) return { username: user, password };
  if (cachedCredentials) return cachedCredentials;
  const secretArn = databaseEnv().DB_SECRET_ARN;
  let text: string | undefined;
  try {
    text = (await secrets().send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (err) {
    throw classifyError(err, 'GetSecretValue DB_SECRET_ARN');
  }
  let parsed: Partial<Credentials>;
  try {
    parsed = JSON.parse(text ?? '') as Partial<Credentials>;
  } catch {
    throw new PermanentError('DB_SECRET_ARN: secret value must be JSON with username and password');
  }
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new PermanentError('DB_SECRET_ARN: secret JSON must contain string fields username and password');
  }
  cachedCredentials = { username: parsed.username, password: parsed.password };
  return cachedCredentials;
}

async function pool(): Promise<Pool> {
  const creds = await credentials();
  const { DB_HOST: host, DB_PORT: port, DB_NAME: database, DB_CONNECT_TIMEOUT_MS: connectTimeout } = databaseEnv();
  const signature = `${creds.username}@${host}:${port}/${database}#${creds.password.length}`;
  if (cachedPool && cachedPool.signature === signature) return cachedPool.pool;
  if (cachedPool) void cachedPool.pool.end().catch(() => undefined);
  // Loaded lazily: handlers that never touch the database don't pay for the driver at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  const options: PoolOptions = {
    host, port, database, user: creds.username, password: creds.password,
    connectionLimit: 2,
    connectTimeout,
    // Exactness: DECIMAL and BIGINT come back as strings, DATETIME as text (UTC), never JS numbers/Dates.
    decimalNumbers: false, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    multipleStatements: false,
  };
  if (!localEndpoint()) options.ssl = 'Amazon RDS';
  const created = mysql.createPool(options);
  cachedPool = { pool: created, signature };
  return created;
}

function dbError(err: unknown, context: string): RetryableError | PermanentError {
  const code = (err as { code?: string }).code;
  if (code === 'ER_ACCESS_DENIED_ERROR') {
    cachedCredentials = undefined;
    if (cachedPool) void cachedPool.pool.end().catch(() => undefined);
    cachedPool = undefined;
  }
  return classifyError(err, context);
}

/** Runs `fn` with one connection (session time zone UTC), always released. */
export async function withConnection<T>(context: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  let conn: PoolConnection;
  try {
    conn = await (await pool()).getConnection();
    await conn.query("SET time_zone = '+00:00'");
  } catch (err) {
    throw dbError(err, `${context}: connect`);
  }
  try {
    return await fn(conn);
  } catch (err) {
    throw dbError(err, context);
  } finally {
    conn.release();
  }
}

/** Runs `fn` in a transaction: committed when it resolves, rolled back (nothing written) when it throws. */
export async function inTransaction<T>(context: string, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
  return withConnection(context, async (conn) => {
    await conn.beginTransaction();
    try {
      const result = await fn(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  });
}

/** Closes the cached pool (tests, and before a container freezes for long). */
export async function closeDb(): Promise<void> {
  const p = cachedPool;
  cachedPool = undefined;
  cachedCredentials = undefined;
  if (p) await p.pool.end().catch(() => undefined);
}
