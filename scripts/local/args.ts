/**
 * Command line of `npm run local`. `--help`/`-h` anywhere wins (usage on stdout, exit 0); every bad
 * option or value is one line naming the flag and the rule (exit 2). Dates go through the one strict
 * parser (domain/dates.ts).
 */
import * as os from 'os';
import { isCalendarDate } from '../../domain/dates';

export type Night = 'on-time' | 'late' | 'missing';
export const NIGHTS: readonly Night[] = ['on-time', 'late', 'missing'];

export interface LocalRunArgs {
  night: Night;
  count: number;
  shards: number;
  badShare: number;
  seed: number;
  /** Valid records written twice, first at the start of the file and again at its end (default: 0.1 % of --count, at most 1,000). */
  crossShardDuplicates?: number;
  keep: boolean;
  runId: string;
  jurisdictions?: string[];
  reportTypes?: string[];
  entities?: string[];
  summaryJson?: string;
  workDir?: string;
}

export const USAGE = `usage: npm run local -- [--count N] [--shards K] [--bad-share 0.03] [--seed N] [--cross-shard-duplicates N] [--keep]
         [--run-id YYYY-MM-DD] [--jurisdictions EU,US] [--report-types TRANSACTION,...] [--entities A,B]
         [--summary-json file] [--work-dir dir] [--night on-time|late|missing]
  --count          transactions to generate (default 1,000,000)
  --shards         processor shards run in parallel processes (default: CPU count)
  --bad-share      share of bad records, 0..1 (default 0.03)
  --keep           keep the servers running after the summary (Ctrl-C stops them) and keep the work dir
  --jurisdictions, --report-types, --entities   a reduced reporting set (default: config/<env>.json)
  --seed           generator seed (default 42)
  --cross-shard-duplicates   N more valid records that appear at the start of the file and again at
                   its end, so with 2+ shards the repeat is in another shard than the first occurrence
                   and only the run-level dedupe of report-loader catches it (default: 0.1 % of
                   --count, at most 1,000; 0 = none)
  --run-id         the run's id and date, a real calendar date YYYY-MM-DD in 2000-2100 (default: today, UTC)
  --summary-json   also write the outcome as JSON (used by the end-to-end test)
  --work-dir       where the generated file and logs go (default: a new temporary directory)
  --night          on-time (default): the run loads, the loader starts reporting, the reporting-time
                   check is quiet; late: the reporting-time check fires while the run is still
                   processing (alert), reporting starts when the run is loaded; missing: no nightly
                   run at all (alert, and report-generate refuses the report date)
  -h, --help       print this help and exit`;

/** A command-line problem: `help` for --help (exit 0), otherwise a one-line usage error (exit 2). */
export class ArgsError extends Error {
  constructor(message: string, readonly help = false) {
    super(message);
    this.name = 'ArgsError';
  }
}

/** A value as it may be shown back in a one-line error: quoted, short, one line. */
const shown = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

export function parseArgs(argv: string[], today = new Date()): LocalRunArgs {
  const args: LocalRunArgs = {
    night: 'on-time', count: 1_000_000, shards: Math.max(1, os.cpus().length), badShare: 0.03, seed: 42, keep: false, runId: today.toISOString().slice(0, 10),
  };
  if (argv.includes('--help') || argv.includes('-h')) throw new ArgsError(USAGE, true);
  const fail = (msg: string): never => { throw new ArgsError(`${msg} (see --help)`); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      // A flag where a value belongs ("--count --keep") is a missing value, not the value.
      if (v === undefined || (v.startsWith('--') && v.length > 2)) fail(`${a} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = value();
      const digits = v.replace(/_/g, '');
      if (!/^\d+$/.test(digits) || Number(digits) < min || !Number.isSafeInteger(Number(digits))) fail(`${a} must be an integer >= ${min}, got ${shown(v)}`);
      return Number(digits);
    };
    const list = () => value().split(',').map((s) => s.trim()).filter(Boolean);
    switch (a) {
      case '--count': args.count = int(1); break;
      case '--shards': args.shards = int(1); break;
      case '--seed': args.seed = int(0); break;
      case '--cross-shard-duplicates': args.crossShardDuplicates = int(0); break;
      case '--bad-share': {
        const v = value();
        args.badShare = Number(v);
        if (!/^\d*\.?\d+$/.test(v) || args.badShare > 1) fail(`--bad-share must be a number between 0 and 1, got ${shown(v)}`);
        break;
      }
      case '--keep': args.keep = true; break;
      case '--run-id': {
        args.runId = value();
        if (!isCalendarDate(args.runId)) fail(`--run-id must be a date YYYY-MM-DD (a real calendar day, years 2000-2100), got ${shown(args.runId)}`);
        break;
      }
      case '--jurisdictions': args.jurisdictions = list(); break;
      case '--report-types': args.reportTypes = list(); break;
      case '--entities': args.entities = list(); break;
      case '--summary-json': args.summaryJson = value(); break;
      case '--work-dir': args.workDir = value(); break;
      case '--night': {
        const v = value();
        if (!(NIGHTS as readonly string[]).includes(v)) fail(`--night must be one of ${NIGHTS.join(', ')}, got ${shown(v)}`);
        args.night = v as Night;
        break;
      }
      default: fail(`unknown option ${a.length > 40 ? `${a.slice(0, 40)}…` : a}`);
    }
  }
  return args;
}
