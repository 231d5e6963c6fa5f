/**
 * Lambda bundles: zip size (the deterministic zip NodejsFunction deploys, built by bundleHandler) and
 * the cold `require` time of each bundle in a fresh node process (median of RUNS), against the aims
 * of 1 MB per zip and 150 ms per cold require. Prints a table, asserts nothing.
 *   npm run bench -- lambda-bundles            (RUNS=5 by default; LAMBDA_BENCH_RUNS to change)
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleHandler, PROJECT_ROOT } from '../stacks/lib/bundle';

const ENTRIES = fs.readdirSync(path.join(PROJECT_ROOT, 'lambda-src'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && fs.existsSync(path.join(PROJECT_ROOT, 'lambda-src', e.name, 'index.ts')))
  .map((e) => e.name).sort();
const RUNS = Number(process.env.LAMBDA_BENCH_RUNS ?? 5);
const ZIP_AIM = 1024 * 1024;
const REQUIRE_AIM_MS = 150;

// What a Lambda container has at init: region and function name; no endpoint override.
const LAMBDA_ENV = { ...process.env, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };
const PROBE = "const t=process.hrtime.bigint();const m=require(process.argv[1]);if(typeof m.handler!=='function')process.exit(3);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[][] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-bench-'));
for (const name of ENTRIES) {
  const started = process.hrtime.bigint();
  const bundle = bundleHandler(name);
  const buildMs = Number(process.hrtime.bigint() - started) / 1e6;
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  execFileSync('unzip', ['-q', bundle.zipPath, '-d', dir]);
  const js = path.join(dir, 'index.js');
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const res = spawnSync(process.execPath, ['-e', PROBE, js], { env: LAMBDA_ENV, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`require of ${name} failed (${res.status}): ${res.stderr.slice(0, 500)}`);
    times.push(Number(res.stdout));
  }
  const ms = median(times);
  rows.push([name, (bundle.bytes / 1024).toFixed(0), (fs.statSync(js).size / 1024).toFixed(0), ms.toFixed(1),
    bundle.bytes <= ZIP_AIM && ms <= REQUIRE_AIM_MS ? 'yes' : 'NO', buildMs.toFixed(0)]);
}
fs.rmSync(tmp, { recursive: true, force: true });
const header = ['function', 'zip KiB', 'index.js KiB', `cold require ms (median of ${RUNS})`, 'within aims', 'bundle ms (0 = cached)'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(`\naims: zip <= ${ZIP_AIM / 1024} KiB, cold require <= ${REQUIRE_AIM_MS} ms; node ${process.version}, ${os.cpus().length} cores`);
