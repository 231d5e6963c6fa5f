/** The CLI and container entry as real processes: exit codes, outputs, SIGTERM. */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generate } from '../../scripts/generate-transactions';
import { tempDir } from './local-helpers';

const ROOT = path.resolve(__dirname, '../..');

function runProcess(script: string, args: string[], env: Record<string, string> = {}, onSpawn?: (kill: () => void) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // `node --import tsx` rather than the tsx binary: the binary runs the script in a child process and
    // relays signals itself, which would test tsx's SIGTERM handling instead of ours.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(() => child.kill('SIGTERM'));
  });
}

describe('processor CLI', () => {
  it('processes a local file into <out>/shard-0-of-1 and logs JSON when not on a TTY', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const manifest = await generate({ count: 500, out: file, seed: 5 });
    const r = await runProcess('processor/src/cli.ts', [file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(0);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
    expect(done.counts.accepted).toBe(manifest.valid);
    expect(fs.readdirSync(path.join(dir, 'out', 'shard-0-of-1')).sort()).toEqual(['accepted.jsonl', 'fingerprints.tsv', 'rejects.jsonl', 'summary.json', 'totals-by-account.jsonl']);
  });

  it.each([
    ['a missing file', ['/nonexistent/in.csv'], 'INPUT_NOT_FOUND'],
    ['a bad --shard', ['x.csv', '--shard', '3/3'], 'USAGE'],
    ['no input', [], 'USAGE'],
  ])('exits 2 on %s with a clear message', async (_name, args, code) => {
    const r = await runProcess('processor/src/cli.ts', args);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ level: 'ERROR', code, exitCode: 2 });
  });

  it('exits 2 with one clear line when the input is a directory', async () => {
    const dir = tempDir();
    const r = await runProcess('processor/src/cli.ts', [dir, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(2);
    const out = r.stdout.trim().split('\n');
    const line = JSON.parse(out.pop()!);
    expect(line).toMatchObject({ level: 'ERROR', code: 'INPUT_NOT_A_FILE', exitCode: 2 });
    expect(line.error).toBe(`${dir} is a directory: give the path of one input file`);
    expect(r.stderr).toBe('');
  });

  it('exits 2 naming the holder when another run holds the output folder', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    await generate({ count: 10, out: file, seed: 5 });
    const shard = path.join(dir, 'out', 'shard-0-of-1');
    fs.mkdirSync(shard, { recursive: true });
    fs.writeFileSync(path.join(shard, '.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: '2026-11-20T00:00:00.000Z' }));
    const r = await runProcess('processor/src/cli.ts', [file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(2);
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(line).toMatchObject({ code: 'OUTPUT_LOCKED', exitCode: 2 });
    expect(line.error).toContain(`locked by pid ${process.pid} on host ${os.hostname()}`);
    expect(fs.readdirSync(shard)).toEqual(['.lock']);
  });

  it.each([['--help'], ['-h']])('prints usage for %s and exits 0', async (flag) => {
    const r = await runProcess('processor/src/cli.ts', [flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: process <file\|s3:\/\/bucket\/key>/);
    expect(r.stdout).toContain('Exit codes:');
  });

  it('exits 143 on SIGTERM and leaves no partial or published output', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'big.csv');
    await generate({ count: 400_000, out: file, seed: 9, badShare: 0 });
    const out = path.join(dir, 'out');
    const shardDir = path.join(out, 'shard-0-of-1');
    const partial = () => {
      const name = fs.existsSync(shardDir) ? fs.readdirSync(shardDir).find((f) => f.startsWith('.accepted.jsonl.') && f.endsWith('.partial')) : undefined;
      return name ? path.join(shardDir, name) : undefined;
    };
    const r = await runProcess('processor/src/cli.ts', [file, '--out', out], {}, (kill) => {
      const timer = setInterval(() => {
        const p = partial();
        if (p && fs.existsSync(p) && fs.statSync(p).size > 0) {
          clearInterval(timer);
          kill();
        }
      }, 5);
    });
    expect(r.code).toBe(143);
    expect(r.stdout).toContain('SIGTERM received');
    expect(fs.readdirSync(path.join(out, 'shard-0-of-1'))).toEqual([]);
  }, 60_000);
});

describe('container entry', () => {
  it('exits 2 naming every missing variable', async () => {
    const r = await runProcess('processor/src/main.ts', [], { SHARD_COUNT: 'two' });
    expect(r.code).toBe(2);
    const line = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(line.code).toBe('CONFIG_INVALID');
    for (const v of ['INPUT_BUCKET', 'INPUT_KEY', 'RUN_ID', 'JOB_ID', 'DEST_BUCKET', 'DEST_KMS_KEY_ARN', 'JOB_STATUS_TABLE', 'AUDIT_LOG_TABLE', 'SNS_TOPIC_ARN', 'SHARD_COUNT']) {
      expect(line.error).toContain(v);
    }
  });
});

describe('process CLI output location', () => {
  it('defaults to a new folder under the system temp directory, never inside the checkout', () => {
    const { parseCliArgs, defaultOutDir } = jest.requireActual('../../processor/src/cli') as typeof import('../../processor/src/cli');
    const out = parseCliArgs(['night.csv']).out;
    expect(path.dirname(out)).toBe(os.tmpdir());
    expect(path.basename(out)).toMatch(/^finbatch-process-\d{8}T\d{6}Z-\d+$/);
    expect(path.relative(ROOT, out).startsWith('..')).toBe(true);
    expect(defaultOutDir(new Date('2026-12-02T07:05:09.123Z'), 42)).toBe(path.join(os.tmpdir(), 'finbatch-process-20261202T070509Z-42'));
    expect(parseCliArgs(['night.csv', '--out', 'here']).out).toBe('here');
  });
});
