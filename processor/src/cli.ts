/**
 * Local runs: `npm run process -- <file|s3://bucket/key> [--out <dir|s3://bucket/prefix>] [--shard i/N]
 * [--max-amount 1000000]`. Writes the same files as the container (shard-<i>-of-<n>/accepted.jsonl,
 * rejects.jsonl, summary.json) but touches no DynamoDB table or SNS topic. A progress line on a TTY,
 * JSON logs otherwise.
 */
import * as os from 'os';
import * as path from 'path';
import { amountLimits, DEFAULT_MAX_AMOUNT } from '../../domain/money';
import { s3Client } from './clients';
import { BadInputError, classifyError, EXIT_OK } from './errors';
import { jsonLogger } from './log';
import { Progress, runShard } from './pipeline';
import { LocalTarget, OutputTarget, S3Target } from './sink';
import { InputSource, openLocal, openS3 } from './source';
import { installSigterm } from './signals';

export interface CliArgs {
  input: string;
  out: string;
  shard: { index: number; count: number };
  maxAmount: string;
}

export const USAGE = 'usage: process <file|s3://bucket/key> [--out <dir|s3://bucket/prefix>] [--shard i/N] [--max-amount N]';

export const HELP = `${USAGE}

Validates one transaction file (CSV with header or JSON Lines, optionally gzip) and writes
<out>/shard-<i>-of-<n>/accepted.jsonl, rejects.jsonl and summary.json (the commit marker, written last).

  --out DIR|s3://bucket/prefix   output location (default: a new folder under the system temp
                                 directory, finbatch-process-<time>-<pid>, named in the log)
  --shard i/N                    process only the i-th of N byte ranges (default 0/1)
  --max-amount N                 inclusive per-record amount limit in major units (default ${DEFAULT_MAX_AMOUNT})
  -h, --help                     print this help

Exit codes: 0 success, 1 internal error, 2 bad input or usage (also: output folder locked by another
run), 3 reconciliation failed, 75 retryable infrastructure error, 143 interrupted (SIGTERM).
`;

/**
 * Where output goes without --out: a fresh folder under the system temp directory, never the working
 * directory (a run from the repository would otherwise leave transaction data inside the checkout).
 */
export function defaultOutDir(now: Date = new Date(), pid: number = process.pid): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return path.join(os.tmpdir(), `finbatch-process-${stamp}-${pid}`);
}

export function parseCliArgs(argv: string[]): CliArgs {
  const usage = USAGE;
  let input: string | undefined;
  let out: string | undefined;
  let shard = { index: 0, count: 1 };
  let maxAmount = process.env.MAX_AMOUNT || DEFAULT_MAX_AMOUNT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new BadInputError('USAGE', `${a} needs a value; ${usage}`);
      return v;
    };
    if (a === '--out') out = value();
    else if (a === '--shard') {
      const m = /^(\d+)\/(\d+)$/.exec(value());
      if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new BadInputError('USAGE', `--shard must be i/N with 0 <= i < N; ${usage}`);
      shard = { index: Number(m[1]), count: Number(m[2]) };
    } else if (a === '--max-amount') maxAmount = value();
    else if (a.startsWith('--')) throw new BadInputError('USAGE', `unknown option ${a}; ${usage}`);
    else if (input === undefined) input = a;
    else throw new BadInputError('USAGE', `more than one input given; ${usage}`);
  }
  if (!input) throw new BadInputError('USAGE', usage);
  try {
    amountLimits(maxAmount);
  } catch (err) {
    throw new BadInputError('USAGE', `--max-amount: ${(err as Error).message}`);
  }
  return { input, out: out ?? defaultOutDir(), shard, maxAmount };
}

function parseS3(url: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}

function progressLine(p: Progress): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.records / secs : 0;
  const fraction = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 0;
  const eta = fraction > 0 ? secs * (1 / fraction - 1) : NaN;
  return `\r${p.records.toLocaleString('en-US')} records  ${Math.round(rate).toLocaleString('en-US')}/s  ${(fraction * 100).toFixed(1)}%  ETA ${Number.isFinite(eta) ? eta.toFixed(1) + ' s' : '?'}   `;
}

export async function runCli(argv: string[]): Promise<number> {
  const log = jsonLogger({ component: 'processor-cli' });
  const tty = Boolean(process.stderr.isTTY);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return EXIT_OK;
  }
  const controller = installSigterm(() => log.warn('SIGTERM received: aborting uploads'));
  try {
    const args = parseCliArgs(argv);
    const s3In = parseS3(args.input);
    const s3Out = parseS3(args.out);
    const s3 = s3In || s3Out ? s3Client() : undefined;
    const source: InputSource = s3In ? await openS3(s3!, s3In.bucket, s3In.key, undefined, { signal: controller.signal }) : await openLocal(args.input);
    const target: OutputTarget = s3Out ? new S3Target(s3!, s3Out.bucket, s3Out.key, process.env.DEST_KMS_KEY_ARN || undefined) : new LocalTarget(args.out);
    let lastLog = 0;
    const summary = await runShard(source, target, args.shard, {
      maxAmount: args.maxAmount,
      signal: controller.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (tty) {
          if (now - lastLog >= 200) process.stderr.write(progressLine(p));
        } else if (now - lastLog >= 5000) {
          log.info('progress', { records: p.records, bytes: p.bytes, totalBytes: p.totalBytes });
        } else return;
        lastLog = now;
      },
    });
    if (tty) process.stderr.write('\n');
    log.info('done', { counts: summary.counts, sha256: summary.input.sha256, outputs: summary.outputs, byCurrency: summary.totals.byCurrency });
    return EXIT_OK;
  } catch (raw) {
    if (tty) process.stderr.write('\n');
    const error = classifyError(raw, 'processor');
    log.error('failed', { code: error.code, exitCode: error.exitCode, error: error.message });
    return error.exitCode;
  }
}

// Self-run only as the script itself (npm run process), not when bundled into main.js.
if (/[\\/]cli\.[tj]s$/.test(process.argv[1] ?? '')) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
