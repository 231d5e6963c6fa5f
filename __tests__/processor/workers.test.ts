/**
 * The worker-thread record stage (PROCESSOR_WORKERS, validate-worker.ts) runs only from the bundle, so
 * this test bundles the processor and runs it single-threaded, with the default (one worker per extra
 * core) and with two workers on the same inputs:
 * every committed file must be byte-identical (summary.json up to its own output paths), for whole
 * files and shards, with every kind of bad record, quoted fields, CRLF, invalid UTF-8 and overlong lines.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../../scripts/generate-transactions';
import { loadContainerConfig, workerCount } from '../../processor/src/config';
import { HEADER, row, tempDir } from './local-helpers';

const ROOT = path.resolve(__dirname, '../..');
/** A complete container environment (values only need to be well-formed). */
const CONTAINER_ENV = {
  INPUT_BUCKET: 'in',
  INPUT_KEY: 'k.csv',
  RUN_ID: 'run-1',
  JOB_ID: 'job-1',
  DEST_BUCKET: 'out',
  DEST_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111111111111:key/x',
  JOB_STATUS_TABLE: 't',
  AUDIT_LOG_TABLE: 'a',
  SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:t',
};
const FILES = ['accepted.jsonl', 'rejects.jsonl', 'totals-by-account.jsonl', 'fingerprints.tsv', 'summary.json'];

describe('worker threads', () => {
  const dir = tempDir();
  const bundle = path.join(dir, 'bundle', 'main.js');
  beforeAll(() => {
    const built = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle-processor.mjs'), bundle], { encoding: 'utf8' });
    expect(built.status).toBe(0);
  });

  function run(input: string, out: string, workers: string, shard = '0/1') {
    const res = spawnSync(process.execPath, [bundle, input, '--out', out, '--shard', shard], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PROCESSOR_WORKERS: workers },
      timeout: 120_000,
    });
    expect(res.status).toBe(0);
    return res;
  }

  it.each([
    ['csv, every bad kind', { count: 60_000, badShare: 0.05 }, '0/1'],
    ['csv, CRLF + BOM + shuffled header, shard 1 of 3', { count: 60_000, badShare: 0.05, crlf: true, bom: true, shuffleHeader: true }, '1/3'],
  ])('gives byte-identical outputs with and without workers: %s', async (_name, options, shard) => {
    const input = path.join(dir, `in-${shard.replace('/', '-')}.csv`);
    await generate({ out: input, seed: 3, ...options });
    // Overlong lines inside a block and across blocks.
    fs.appendFileSync(input, [row('LONG-1', { counterparty: 'x'.repeat(70_000) }), row('OK-1'), row('LONG-2', { counterparty: 'y'.repeat(3_000_000) }), row('OK-2')].join('\n') + '\n');
    const single = path.join(dir, `single-${shard.replace('/', '-')}`);
    const multi = path.join(dir, `multi-${shard.replace('/', '-')}`);
    const auto = path.join(dir, `auto-${shard.replace('/', '-')}`);
    run(input, single, '0', shard);
    run(input, multi, '2', shard);
    run(input, auto, '', shard);
    const sub = `shard-${shard.replace('/', '-of-')}`;
    for (const other of [multi, auto]) {
      for (const f of FILES) {
        const a = fs.readFileSync(path.join(single, sub, f), 'utf8');
        const b = fs.readFileSync(path.join(other, sub, f), 'utf8');
        if (f === 'summary.json') expect(b.split(other).join('<out>')).toBe(a.split(single).join('<out>'));
        else expect(Buffer.compare(Buffer.from(b), Buffer.from(a))).toBe(0);
      }
    }
    const summary = JSON.parse(fs.readFileSync(path.join(multi, sub, 'summary.json'), 'utf8'));
    expect(summary.counts.read).toBeGreaterThan(10_000);
    expect(summary.counts.byReason.INVALID_UTF8).toBeGreaterThan(0);
    if (shard === '0/1') expect(summary.counts.byReason.LINE_TOO_LONG).toBe(2);
  }, 120_000);

  it('uses one worker per extra core by default, as many as asked for, and never from TypeScript sources', () => {
    expect(workerCount('/x/main.js', {}, 2)).toBe(1);
    expect(workerCount('/x/main.js', {}, 1)).toBe(0);
    expect(workerCount('/x/main.js', {}, 16)).toBe(2);
    expect(workerCount('/x/main.js', { PROCESSOR_WORKERS: 'auto' }, 2)).toBe(1);
    expect(workerCount('/x/main.js', { PROCESSOR_WORKERS: '0' }, 2)).toBe(0);
    expect(workerCount('/x/main.js', { PROCESSOR_WORKERS: '2' }, 2)).toBe(2);
    expect(workerCount('/x/pipeline.ts', { PROCESSOR_WORKERS: '2' })).toBe(0);
  });

  it.each(['two', '-1', '1.5', '9'])('refuses PROCESSOR_WORKERS=%s, naming the variable', (value) => {
    expect(() => workerCount('/x/main.js', { PROCESSOR_WORKERS: value })).toThrow(/PROCESSOR_WORKERS must be "auto" or a whole number from 0 to 8/);
    expect(() => loadContainerConfig({ ...CONTAINER_ENV, PROCESSOR_WORKERS: value })).toThrow(/invalid configuration: PROCESSOR_WORKERS must be/);
  });

  it('exits 143 on SIGTERM with a worker at work, and leaves no partial or published output', async () => {
    const input = path.join(dir, 'big.csv');
    await generate({ count: 400_000, out: input, seed: 9, badShare: 0 });
    const out = path.join(dir, 'term');
    const shardDir = path.join(out, 'shard-0-of-1');
    const child = spawn(process.execPath, [bundle, input, '--out', out], { env: { PATH: process.env.PATH, PROCESSOR_WORKERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    // Signalled once the accepted output has its first bytes: the worker is checking blocks by then.
    const timer = setInterval(() => {
      const partial = fs.existsSync(shardDir) ? fs.readdirSync(shardDir).find((f) => f.startsWith('.accepted.jsonl.') && f.endsWith('.partial')) : undefined;
      if (partial && fs.statSync(path.join(shardDir, partial)).size > 0) {
        clearInterval(timer);
        child.kill('SIGTERM');
      }
    }, 5);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(timer);
    expect(code).toBe(143);
    expect(stdout).toContain('SIGTERM received');
    expect(fs.readdirSync(shardDir)).toEqual([]);
  }, 60_000);

  it('refuses a PROCESSOR_WORKERS value it does not know before writing anything (exit 2)', () => {
    const input = path.join(dir, 'small.csv');
    fs.writeFileSync(input, HEADER + '\n' + row('OK-1') + '\n');
    const out = path.join(dir, 'refused');
    const res = spawnSync(process.execPath, [bundle, input, '--out', out], { encoding: 'utf8', env: { PATH: process.env.PATH, PROCESSOR_WORKERS: 'many' } });
    expect(res.status).toBe(2);
    const failed = res.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'failed');
    expect(failed).toMatchObject({ code: 'CONFIG_INVALID', error: 'PROCESSOR_WORKERS must be "auto" or a whole number from 0 to 8, got "many"' });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('handles a header-only file with workers asked for', () => {
    const input = path.join(dir, 'header-only.csv');
    fs.writeFileSync(input, HEADER + '\n');
    run(input, path.join(dir, 'ho'), '2');
    expect(fs.readFileSync(path.join(dir, 'ho', 'shard-0-of-1', 'accepted.jsonl'), 'utf8')).toBe('');
  });
});
