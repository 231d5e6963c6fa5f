/**
 * Starts a real moto server on 127.0.0.1 (free port) for tests and local runs, with moto's no-Docker
 * modes turned on. Installed by scripts/setup-python.sh into .venv (CI runs it); a server that dies at
 * start fails fast instead of hanging.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  /** SDK v3 client config for this server. */
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function findExecutable(name: string): string {
  const local = path.join(ROOT, '.venv', 'bin', name);
  if (fs.existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found in .venv/bin or PATH: run scripts/setup-python.sh first`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} during start:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto_server not ready within ${timeoutMs} ms:\n${log()}`);
}

export async function startMoto(options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  delete env.MOTO_PORT; // an empty MOTO_PORT crashes moto_server at start
  // moto logs one line per request. Into a file, not a pipe: a caller that blocks its event loop in
  // spawnSync while a child talks to moto would stop draining a pipe, and moto would block writing to it.
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moto-'));
  const logFile = path.join(logDir, 'moto_server.log');
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(findExecutable('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const removeLog = () => fs.rmSync(logDir, { recursive: true, force: true });
  try {
    await waitReady(`${endpoint}/moto-api/data.json`, child, options.timeoutMs ?? 30000, () => fs.readFileSync(logFile, 'utf8').slice(-4000));
  } catch (e) {
    removeLog();
    throw e;
  }
  const configure = async () => {
    const res = await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ batch: { use_docker: false }, lambda: { use_docker: false }, stepfunctions: { execute_state_machine: true } }),
    });
    if (!res.ok) throw new Error(`moto config failed: ${res.status}`);
  };
  await configure();
  return {
    endpoint,
    port,
    clientConfig: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await configure();
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) { removeLog(); return resolve(); }
        child.once('exit', () => { removeLog(); resolve(); });
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
