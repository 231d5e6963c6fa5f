import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface Measurement {
  label: string;
  seconds: number;
  /** Peak RSS of the largest node process of the command. */
  peakRssMb: number;
  status: number | null;
}

/** Runs a command, returning wall time and the peak RSS of its node processes. */
export function measure(label: string, cmd: string, args: string[], env: Record<string, string> = {}, cwd = process.cwd()): Measurement {
  const rssFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'rss');
  const started = process.hrtime.bigint();
  const res = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--require ${path.join(__dirname, 'rss-report.cjs')}` },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (res.status !== 0) process.stderr.write(res.stderr ?? '');
  const rss = fs.existsSync(rssFile)
    ? Math.max(...fs.readFileSync(rssFile, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1])))
    : NaN;
  return { label, seconds, peakRssMb: rss / 1024 / 1024, status: res.status };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function printTable(rows: Measurement[]): void {
  console.log(`${'what'.padEnd(52)} ${'wall s'.padStart(8)} ${'peak RSS MB'.padStart(12)}`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(52)} ${r.seconds.toFixed(2).padStart(8)} ${r.peakRssMb.toFixed(0).padStart(12)}${r.status === 0 ? '' : `  (exit ${r.status})`}`);
  }
}
