/** Command line of `npm run local`; every bad value is reported with the flag and the rule. */
import * as os from 'os';

export interface LocalRunArgs {
  count: number;
  shards: number;
  badShare: number;
  seed: number;
  keep: boolean;
  runId: string;
  jurisdictions?: string[];
  reportTypes?: string[];
  entities?: string[];
  summaryJson?: string;
  workDir?: string;
}

export const USAGE = `usage: npm run local -- [--count N] [--shards K] [--bad-share 0.03] [--seed N] [--keep]
         [--run-id YYYY-MM-DD] [--jurisdictions EU,US] [--report-types TRANSACTION,...] [--entities A,B]
         [--summary-json file] [--work-dir dir]
  --count          transactions to generate (default 1,000,000)
  --shards         processor shards run in parallel processes (default: CPU count)
  --bad-share      share of bad records, 0..1 (default 0.03)
  --keep           keep the servers running after the summary (Ctrl-C stops them) and keep the work dir
  --jurisdictions, --report-types, --entities   a reduced reporting set (default: config/<env>.json)
  --summary-json   also write the outcome as JSON (used by the end-to-end test)`;

export function parseArgs(argv: string[], today = new Date()): LocalRunArgs {
  const args: LocalRunArgs = {
    count: 1_000_000, shards: Math.max(1, os.cpus().length), badShare: 0.03, seed: 42, keep: false, runId: today.toISOString().slice(0, 10),
  };
  const fail = (msg: string): never => { throw new Error(`${msg}\n${USAGE}`); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? fail(`${a} needs a value`);
    const int = (min: number) => {
      const v = value();
      if (!/^\d+$/.test(v.replace(/_/g, '')) || Number(v.replace(/_/g, '')) < min) fail(`${a} must be an integer >= ${min}, got "${v}"`);
      return Number(v.replace(/_/g, ''));
    };
    const list = () => value().split(',').map((s) => s.trim()).filter(Boolean);
    switch (a) {
      case '--count': args.count = int(1); break;
      case '--shards': args.shards = int(1); break;
      case '--seed': args.seed = int(0); break;
      case '--bad-share': {
        const v = value();
        args.badShare = Number(v);
        if (!/^\d*\.?\d+$/.test(v) || args.badShare > 1) fail(`--bad-share must be a number between 0 and 1, got "${v}"`);
        break;
      }
      case '--keep': args.keep = true; break;
      case '--run-id': {
        args.runId = value();
        if (!/^\d{4}-\d{2}-\d{2}$/.test(args.runId)) fail(`--run-id must be a date YYYY-MM-DD, got "${args.runId}"`);
        break;
      }
      case '--jurisdictions': args.jurisdictions = list(); break;
      case '--report-types': args.reportTypes = list(); break;
      case '--entities': args.entities = list(); break;
      case '--summary-json': args.summaryJson = value(); break;
      case '--work-dir': args.workDir = value(); break;
      case '--help': case '-h': throw Object.assign(new Error(USAGE), { help: true });
      default: fail(`unknown option ${a}`);
    }
  }
  return args;
}
