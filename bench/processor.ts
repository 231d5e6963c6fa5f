/**
 * Processor throughput benchmark (prints figures, asserts nothing):
 *   npx tsx bench/processor.ts [--count 1000000] [--s3-count 200000] [--skip-s3] [--skip-local] [--stage]
 *        [--skip-peer] [--peer-count 1000000] [--peer-runs 3] [--workers N]
 *   npx tsx bench/processor.ts --baseline <dir> [--count 1000000] [--pairs 3]
 * `--baseline <dir>`: another checkout of this project (e.g. a `git worktree` of an earlier commit, with
 * node_modules) is bundled with its own scripts/bundle-processor.mjs and run alternately with this
 * tree's bundle on the same generated files (3 % bad records, then clean): wall, user and system CPU,
 * peak RSS per run, medians, the ratios current / baseline and the load average (only this leg runs).
 * The peer leg runs the same job in DuckDB (bench/lib/duckdb-job.py) when .venv has duckdb (nothing is
 * installed here), alternating `--peer-runs` runs of each on a clean file and on one with 3 % bad
 * records, and prints both walls, both peak RSS and the ratios.
 * Runs the esbuild bundle (what the container runs) in child processes and reports wall time, peak RSS
 * (from /usr/bin/time -v) and, in the same run, the time plain Node needs to read the same file and
 * split it into lines, plus the ratio between the two. The S3 leg goes through a local moto server.
 * `--stage` also times the record stage alone (RecordProcessor over in-memory line-aligned blocks, no
 * I/O, hashing or process start-up): end-to-end wall time on a shared machine varies by more than a
 * few-percent change to the per-record code, this figure much less.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { build } from 'esbuild';
import { generate } from '../scripts/generate-transactions';
import { startMoto } from '../test-support/moto-server';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'bench', 'out');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Measured {
  wallMs: number;
  maxRssMb?: number;
  /** CPU seconds of the process and its threads (from /usr/bin/time -v). */
  userS?: number;
  sysS?: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = timeBin ? spawn(timeBin, ['-v', cmd, ...args], { env }) : spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      resolve({
        wallMs,
        maxRssMb: rss ? Number(rss[1]) / 1024 : undefined,
        userS: user ? Number(user[1]) : undefined,
        sysS: sys ? Number(sys[1]) : undefined,
        code,
        stdout,
        stderr,
      });
    });
  });
}

/** The floor: stream the file and find every line break, nothing else. */
const BASELINE = `
const fs = require('fs');
(async () => {
  let lines = 0, carry = '';
  for await (const chunk of fs.createReadStream(process.argv[1], { highWaterMark: 1 << 20 })) {
    const s = carry + chunk.toString('latin1');
    let pos = 0, nl;
    while ((nl = s.indexOf('\\n', pos)) >= 0) { lines++; pos = nl + 1; }
    carry = s.slice(pos);
  }
  process.stdout.write(String(lines));
})();`;

async function ensureInput(count: number): Promise<string> {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `processor-${count}.csv`);
  if (!fs.existsSync(file)) {
    const t = Date.now();
    // Generated under a private name and renamed: a benchmark started meanwhile never reads a half-written file.
    const temp = `${file}.${process.pid}.tmp`;
    await generate({ count, out: temp, seed: 42, badShare: 0.03 });
    fs.renameSync(temp, file);
    console.log(`generated ${file} in ${Date.now() - t} ms`);
  }
  return file;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(0)} MB`);

async function main(): Promise<void> {
  const count = arg('--count', 1_000_000);
  // --workers N: the processor's worker threads (PROCESSOR_WORKERS; default auto) in every leg.
  if (process.argv.includes('--workers')) process.env.PROCESSOR_WORKERS = String(arg('--workers', 0));
  console.log(`processor worker threads: ${process.env.PROCESSOR_WORKERS || 'auto'} (PROCESSOR_WORKERS), ${os.cpus().length} cores`);
  const bundle = path.join(OUT, 'processor-main.js');
  execFileSync('node', [path.join(ROOT, 'scripts', 'bundle-processor.mjs'), bundle], { stdio: 'inherit' });
  const baselineAt = process.argv.indexOf('--baseline');
  if (baselineAt >= 0) {
    await baselineLeg(bundle, path.resolve(process.argv[baselineAt + 1] ?? ''), count, arg('--pairs', 3));
    return;
  }

  if (!process.argv.includes('--skip-local')) await localLeg(bundle, count);
  if (process.argv.includes('--stage')) await stageLeg(count);
  if (!process.argv.includes('--skip-s3')) await s3Leg(bundle, arg('--s3-count', 200_000));
  if (!process.argv.includes('--skip-peer')) await peerLeg(bundle, arg('--peer-count', 1_000_000), arg('--peer-runs', 3));
}

async function peerLeg(bundle: string, count: number, runs: number): Promise<void> {
  const python = path.join(ROOT, '.venv', 'bin', 'python');
  const probe = fs.existsSync(python) ? spawnSync(python, ['-c', 'import duckdb; print(duckdb.__version__)'], { encoding: 'utf8' }) : undefined;
  if (!probe || probe.status !== 0) {
    console.log('\n== DuckDB peer: skipped (no duckdb in .venv; npm run setup:python installs the pinned version) ==');
    return;
  }
  const script = path.join(__dirname, 'lib', 'duckdb-job.py');
  console.log(`\n== DuckDB ${probe.stdout.trim()} peer: ${count.toLocaleString('en-US')} records, ${runs} alternated runs each, clean and with 3 % bad records ==`);
  console.log('what differs: DuckDB does no card-number (Luhn) scan, skips broken lines instead of counting them, and writes no rejects, per-account totals, fingerprints or output hashes.');
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const ratios: Record<string, number> = {};
  for (const [label, file] of [['clean', await ensureCleanInput(count)], ['3 % bad', await ensureInput(count)]] as const) {
    console.log(`-- ${label}: ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);
    const ours: Measured[] = [];
    const peer: Measured[] = [];
    for (let run = 1; run <= runs; run++) {
      const outDir = path.join(OUT, 'processor-peer');
      fs.rmSync(outDir, { recursive: true, force: true });
      const a = await measure('node', [bundle, file, '--out', outDir]);
      if (a.code !== 0) throw new Error(`processor failed (${a.code}): ${a.stdout.slice(-2000)}`);
      const b = await measure(python, [script, file, path.join(OUT, 'duckdb-accepted.jsonl')]);
      if (b.code !== 0) throw new Error(`duckdb job failed (${b.code}): ${b.stderr.slice(-2000)}`);
      ours.push(a);
      peer.push(b);
      console.log(`run ${run}: processor ${fmt(a.wallMs)} peak RSS ${mb(a.maxRssMb)} | duckdb ${fmt(b.wallMs)} peak RSS ${mb(b.maxRssMb)} | processor/duckdb wall ${(a.wallMs / b.wallMs).toFixed(2)}`);
    }
    const [mo, mp] = [median(ours.map((m) => m.wallMs)), median(peer.map((m) => m.wallMs))];
    ratios[label] = mo / mp;
    console.log(`median wall: processor ${fmt(mo)}, duckdb ${fmt(mp)}, ratio ${(mo / mp).toFixed(2)} (goal <= 0.67); peak RSS max: processor ${mb(Math.max(...ours.map((m) => m.maxRssMb ?? 0)))} (goal <= 256 MB), duckdb ${mb(Math.max(...peer.map((m) => m.maxRssMb ?? 0)))}`);
    if (label === 'clean') {
      const done = ours[ours.length - 1].stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
      console.log(`processor: accepted ${done.counts.accepted}, totals ${JSON.stringify(Object.fromEntries(Object.entries(done.byCurrency as Record<string, { amountMinor: string }>).map(([c, t]) => [c, t.amountMinor])))}`);
      console.log(`duckdb:    ${peer[peer.length - 1].stdout.trim()}`);
    }
  }
  console.log(`ratio with 3 % bad records / clean ratio: ${(ratios['3 % bad'] / ratios.clean).toFixed(2)} (goal: within 10 %)`);
}

/** Same-file comparison with an earlier checkout's bundle, alternated so both see the same machine load. */
async function baselineLeg(bundle: string, dir: string, count: number, pairs: number): Promise<void> {
  const script = path.join(dir, 'scripts', 'bundle-processor.mjs');
  if (!fs.existsSync(script)) throw new Error(`--baseline ${dir}: no scripts/bundle-processor.mjs there (give the root of another checkout)`);
  const baseBundle = path.join(OUT, 'processor-baseline.js');
  execFileSync('node', [script, baseBundle], { cwd: dir, stdio: 'inherit' });
  const rev = spawnSync('git', ['-C', dir, 'log', '-1', '--format=%h %<(60,trunc)%s'], { encoding: 'utf8' }).stdout.trim();
  const head = spawnSync('git', ['-C', ROOT, 'log', '-1', '--format=%h %<(60,trunc)%s'], { encoding: 'utf8' }).stdout.trim();
  console.log(`baseline: ${dir} (${rev || 'not a git checkout'})\ncurrent:  ${ROOT} (${head}${spawnSync('git', ['-C', ROOT, 'diff', '--quiet', '--', 'processor', 'domain']).status ? ', with uncommitted changes' : ''})`);
  console.log(`cores: ${os.cpus().length}; load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const files: [string, string][] = [['3 % bad records', await ensureInput(count)], ['clean', await ensureCleanInput(count)]];
  const cpu = (m: Measured) => (m.userS ?? NaN) + (m.sysS ?? NaN);
  const median = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  for (const [label, file] of files) {
    console.log(`\n== ${count.toLocaleString('en-US')} records, ${label}, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB: ${pairs} alternated pairs ==`);
    const runs: Record<'baseline' | 'current', Measured[]> = { baseline: [], current: [] };
    for (let pair = 1; pair <= pairs; pair++) {
      // Alternate which goes first, so neither always runs right after the other's disk writes.
      const order: ('baseline' | 'current')[] = pair % 2 ? ['baseline', 'current'] : ['current', 'baseline'];
      const line: string[] = [];
      for (const which of order) {
        const outDir = path.join(OUT, `processor-${which}-out`);
        fs.rmSync(outDir, { recursive: true, force: true });
        const m = await measure('node', [which === 'baseline' ? baseBundle : bundle, file, '--out', outDir]);
        if (m.code !== 0) throw new Error(`${which} processor failed (${m.code}): ${m.stdout.slice(-2000)}`);
        fs.rmSync(outDir, { recursive: true, force: true });
        runs[which].push(m);
        line.push(`${which} ${fmt(m.wallMs)} user ${m.userS?.toFixed(2)} s sys ${m.sysS?.toFixed(2)} s RSS ${mb(m.maxRssMb)}`);
      }
      console.log(`pair ${pair}: ${line.join(' | ')} | load ${os.loadavg()[0].toFixed(2)}`);
    }
    const stat = (which: 'baseline' | 'current') => ({
      wall: median(runs[which].map((m) => m.wallMs)),
      user: median(runs[which].map((m) => m.userS ?? NaN)),
      cpu: median(runs[which].map(cpu)),
      rss: Math.max(...runs[which].map((m) => m.maxRssMb ?? 0)),
    });
    const [b, c] = [stat('baseline'), stat('current')];
    console.log(`median wall: baseline ${fmt(b.wall)}, current ${fmt(c.wall)}, current/baseline ${(c.wall / b.wall).toFixed(2)}`);
    console.log(`median user CPU: baseline ${b.user.toFixed(2)} s, current ${c.user.toFixed(2)} s, current/baseline ${(c.user / b.user).toFixed(2)} (user+sys ${(c.cpu / b.cpu).toFixed(2)})`);
    console.log(`peak RSS max: baseline ${mb(b.rss)}, current ${mb(c.rss)}`);
  }
  console.log(`\nload average at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

async function ensureCleanInput(count: number): Promise<string> {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `processor-clean-${count}.csv`);
  if (!fs.existsSync(file)) {
    const temp = `${file}.${process.pid}.tmp`;
    await generate({ count, out: temp, seed: 42, badShare: 0 });
    fs.renameSync(temp, file);
  }
  return file;
}

async function localLeg(bundle: string, count: number): Promise<void> {
  const file = await ensureInput(count);
  const size = fs.statSync(file).size;
  console.log(`input: ${count.toLocaleString('en-US')} records, ${(size / 1e6).toFixed(1)} MB (${file})`);

  const baseline = await measure('node', ['-e', BASELINE, file]);
  const outDir = path.join(OUT, 'processor-local');
  fs.rmSync(outDir, { recursive: true, force: true });
  const local = await measure('node', [bundle, file, '--out', outDir]);
  if (local.code !== 0) throw new Error(`processor failed (${local.code}): ${local.stdout.slice(-2000)}`);
  const done = local.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');

  console.log('\n== local file ==');
  console.log(`read + split lines (node baseline): ${fmt(baseline.wallMs)}  peak RSS ${mb(baseline.maxRssMb)}`);
  console.log(`processor:                          ${fmt(local.wallMs)}  peak RSS ${mb(local.maxRssMb)}  (${Math.round((count / local.wallMs) * 1000).toLocaleString('en-US')} records/s)`);
  console.log(`ratio processor / baseline:         ${(local.wallMs / baseline.wallMs).toFixed(2)}x`);
  console.log(`counts: ${JSON.stringify({ read: done.counts.read, accepted: done.counts.accepted, rejected: done.counts.rejected, duplicates: done.counts.duplicates })}`);

  // A header and then 120 MB without a newline: the line is rejected as it streams (LINE_TOO_LONG),
  // never buffered, so peak RSS should stay near the process's baseline.
  const noNewline = path.join(OUT, 'processor-no-newline.csv');
  if (!fs.existsSync(noNewline)) {
    const fd = fs.openSync(`${noNewline}.${process.pid}.tmp`, 'w');
    fs.writeSync(fd, 'transactionId,accountId,entityId,amount,currency,timestamp,counterparty,jurisdiction,type,cardLast4\n');
    const block = Buffer.alloc(1 << 20, 0x78);
    for (let i = 0; i < 120; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    fs.renameSync(`${noNewline}.${process.pid}.tmp`, noNewline);
  }
  const longOut = path.join(OUT, 'processor-no-newline-out');
  fs.rmSync(longOut, { recursive: true, force: true });
  const long = await measure('node', [bundle, noNewline, '--out', longOut]);
  const longDone = long.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'done');
  console.log(`header + 120 MB without a newline:  ${fmt(long.wallMs)}  peak RSS ${mb(long.maxRssMb)}  exit ${long.code}  byReason ${JSON.stringify(longDone?.counts?.byReason ?? {})}`);

}

/**
 * The record stage alone, as the pipeline drives it (~1 MiB blocks ending on a line break), bundled
 * with esbuild like the image (code run under tsx is measurably slower than the bundle).
 */
const STAGE = `
import * as fs from 'fs';
import { RecordProcessor } from './processor/src/record-processor';
const data = fs.readFileSync(process.argv[2]);
const blocks: Buffer[] = [];
for (let pos = 0; pos < data.length; ) {
  let end = Math.min(data.length, pos + (1 << 20));
  if (end < data.length) end = data.lastIndexOf(0x0a, end) + 1;
  blocks.push(data.subarray(pos, end));
  pos = end;
}
const times: number[] = [];
for (let run = 0; run < 3; run++) {
  const p = new RecordProcessor({ expectedRecords: Math.ceil(data.length / 100) });
  const started = process.hrtime.bigint();
  for (const block of blocks) {
    p.processBytes(block);
    p.acceptedOut.takeParts();
    p.rejectsOut = '';
  }
  times.push(Number(process.hrtime.bigint() - started) / 1e6);
}
process.stdout.write(JSON.stringify(times));
`;

async function stageLeg(count: number): Promise<void> {
  const file = await ensureInput(count);
  const script = path.join(OUT, 'processor-stage.js');
  await build({ stdin: { contents: STAGE, resolveDir: ROOT, loader: 'ts' }, outfile: script, bundle: true, platform: 'node', target: 'node22', format: 'cjs', logLevel: 'warning' });
  const times = JSON.parse(execFileSync('node', [script, file], { encoding: 'utf8' })) as number[];
  console.log('\n== record stage only (bundled, in-memory blocks: no I/O, hashing or start-up) ==');
  console.log(`best of 3: ${fmt(Math.min(...times))}  (runs: ${times.map(fmt).join(', ')})`);
}

async function s3Leg(bundle: string, s3Count: number): Promise<void> {
  const s3File = await ensureInput(s3Count);
  const moto = await startMoto();
  try {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-in' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-out' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bench-in', Key: 'tx.csv', Body: fs.readFileSync(s3File) }));
    const env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const viaS3 = await measure('node', [bundle, 's3://bench-in/tx.csv', '--out', 's3://bench-out/processed'], env);
    if (viaS3.code !== 0) throw new Error(`processor (S3) failed (${viaS3.code}): ${viaS3.stdout.slice(-2000)}`);
    const s3Size = fs.statSync(s3File).size;
    console.log('\n== moto S3 (in and out) ==');
    console.log(`${s3Count.toLocaleString('en-US')} records, ${(s3Size / 1e6).toFixed(1)} MB: ${fmt(viaS3.wallMs)}  peak RSS ${mb(viaS3.maxRssMb)}  (${Math.round((s3Count / viaS3.wallMs) * 1000).toLocaleString('en-US')} records/s; moto itself shares the 2 cores)`);
  } finally {
    await moto.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
