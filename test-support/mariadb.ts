/**
 * Starts a real MariaDB (Debian `mariadb-server`, installed by .ci/run) for tests: throwaway datadir,
 * loopback on a free port, utf8mb4, no systemd and no my.cnf (`--no-defaults`). Readiness is a real
 * client connection with a timeout; a server that exits during start fails fast with its error log.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { freePort } from './moto-server';

const run = promisify(execFile);

export interface MariaDbServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** Runs SQL as root (setup/assertions in tests). */
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  /** Stops the server (SIGTERM, then SIGKILL); `restart` starts it again on the same port and datadir. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its datadir. */
  destroy(): Promise<void>;
}

function findBinary(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(path.delimiter)]) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found: install Debian's mariadb-server (.ci/run does)`);
}

/** `bufferPoolMb`: InnoDB buffer pool (default 32 MB, enough for tests; benchmarks loading a million rows want more). */
export async function startMariaDb(options: { database?: string; timeoutMs?: number; bufferPoolMb?: number } = {}): Promise<MariaDbServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mariadb-test-'));
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const database = options.database ?? 'regulatory_reports';
  const user = 'reporting';
  const password = 'local-test-only';
  const timeoutMs = options.timeoutMs ?? 30000;
  await run(findBinary('mariadb-install-db'), [
    '--no-defaults', '--user=root', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db',
  ], { timeout: timeoutMs });

  let child: ChildProcess | undefined;
  const errLog = path.join(dir, 'err.log');
  const tail = () => (fs.existsSync(errLog) ? fs.readFileSync(errLog, 'utf8').slice(-3000) : '');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');

  const start = async () => {
    child = spawn(findBinary('mariadbd'), [
      '--no-defaults', '--user=root', `--datadir=${dataDir}`, `--socket=${path.join(dir, 'sock')}`, `--port=${port}`,
      '--bind-address=127.0.0.1', `--pid-file=${path.join(dir, 'pid')}`, `--log-error=${errLog}`,
      '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci', '--skip-name-resolve',
      `--innodb-buffer-pool-size=${options.bufferPoolMb ?? 32}M`, '--performance-schema=OFF',
    ], { stdio: 'ignore' });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode} during start:\n${tail()}`);
      try {
        const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`mariadbd not ready within ${timeoutMs} ms:\n${tail()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const stop = () => new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null) return resolve();
    const c = child;
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  });

  await start();
  const query = async <T>(sql: string, params: unknown[] = []): Promise<T> => {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [rows] = await c.query(sql, params);
      return rows as T;
    } finally {
      await c.end();
    }
  };
  await query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
  await query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'127.0.0.1'`);

  return {
    host: '127.0.0.1', port, user, password, database,
    query,
    stop,
    restart: start,
    async destroy() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
