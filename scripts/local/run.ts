/**
 * `npm run local`: the whole nightly run on this machine. Owns the lifecycle: servers start first and
 * are stopped on every way out (normal end, failure, Ctrl-C/SIGTERM), processor shards are terminated
 * with them, and handler output is captured in the run log so the terminal shows progress only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, PlatformConfig } from '../../stacks/config';
import { DATABASE_NAME } from '../../contracts/reporting-database';
import { reportDateOfRun } from '../../domain/reporting/run-dates';
import { startMariaDb } from '../../test-support/mariadb';
import { startMoto } from '../../test-support/moto-server';
import { LocalRunArgs } from './args';
import { ChainResult, runChain } from './chain';
import { lambdaRuntime } from './handlers';
import { terminateChildren } from './processor-pool';
import { Progress } from './progress';
import { functionEnvironments, provision } from './resources';
import { acceptedBreakdown, collectOutcome, Outcome, renderSummary } from './summary';
import { timelineInput, writeTimeline } from './timeline';

export interface RunReport {
  ok: boolean;
  servers: { motoEndpoint?: string; motoPort?: number; dbPort?: number };
  outcome?: Outcome;
  error?: string;
  logFile: string;
}

const LOCAL_BUFFER_POOL_BYTES = 1024 * 1024 * 1024;

type Stopper = { name: string; stop: () => Promise<void> };

/** Stops what was started, newest first, once, whatever path gets here first. */
class Cleanup {
  private readonly stoppers: Stopper[] = [];
  private running?: Promise<void>;
  add(name: string, stop: () => Promise<void>): void {
    this.stoppers.push({ name, stop });
  }
  run(): Promise<void> {
    this.running ??= (async () => {
      await terminateChildren().catch(() => undefined);
      for (const s of [...this.stoppers].reverse()) await s.stop().catch(() => undefined);
    })();
    return this.running;
  }
}

function reportingSet(cfg: PlatformConfig, args: LocalRunArgs): PlatformConfig['reporting'] {
  const pick = (name: string, wanted: string[] | undefined, configured: readonly string[]) => {
    if (!wanted) return [...configured];
    const unknown = wanted.filter((w) => !configured.includes(w));
    if (unknown.length) throw new Error(`--${name}: ${unknown.join(', ')} not in config (configured: ${configured.join(', ')})`);
    return wanted;
  };
  return {
    ...cfg.reporting,
    jurisdictions: pick('jurisdictions', args.jurisdictions, cfg.reporting.jurisdictions) as PlatformConfig['reporting']['jurisdictions'],
    reportTypes: pick('report-types', args.reportTypes, cfg.reporting.reportTypes) as PlatformConfig['reporting']['reportTypes'],
    // Entities are free-form ids: a local run may name others (e.g. the generator's) on purpose.
    entities: args.entities ?? [...cfg.reporting.entities],
  };
}

/**
 * Exit 0 only when the night went as its mode requires. on-time and late: everything reconciles, every
 * planned report is confirmed, reporting was started by the loader; on time the reporting-time check
 * was quiet, late it alerted. missing: the check alerted, report-generate refused the date
 * (RUN_NOT_LOADED), nothing was loaded or reported.
 */
export function nightOk(o: Outcome): boolean {
  const n = o.night;
  if (n.mode === 'missing') {
    return n.deadlineAlerted === true && /RUN_NOT_LOADED/.test(n.generateRefusal ?? '') && !n.reportingStarted && o.loadedRows === 0 && o.reports.generated === 0;
  }
  const chainOk = o.reconciliationOk && o.loadedRows === o.records.accepted && o.reports.confirmed === o.reports.planned && n.reportingStarted;
  return chainOk && n.deadlineAlerted === (n.mode === 'late');
}

export async function runLocal(args: LocalRunArgs, write: (text: string) => void, tty: boolean): Promise<RunReport> {
  const cfg = loadConfig();
  const reporting = reportingSet(cfg, args);
  const workDir = args.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'finbatch-local-'));
  fs.mkdirSync(workDir, { recursive: true });
  const logFile = path.join(workDir, 'run.log');
  const log = fs.createWriteStream(logFile);
  const progress = new Progress(write, tty);
  const cleanup = new Cleanup();
  const report: RunReport = { ok: false, servers: {}, logFile };

  // Handlers log JSON and EMF to stdout/stderr as in Lambda; here that belongs in the run log.
  const original = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    log.write(chunk);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress.line(`\n${signal}: stopping processor shards and servers...`);
    void cleanup.run().finally(() => {
      write(`servers stopped; run log: ${logFile}\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    progress.line(`local nightly run ${args.runId} (${args.night} night): ${args.night === 'missing' ? 'no run' : `${args.count.toLocaleString('en-US')} transactions`}, ${args.shards} shard process(es), config ${cfg.project}-${cfg.environment}; log ${logFile}`);
    const [moto, db] = await progress.stage('servers', 'moto server + MariaDB on loopback', async () => {
      // moto-site/sitecustomize.py: /moto-api/data.json (the messages SES captured) works with Batch jobs present.
      const site = path.join(__dirname, 'moto-site');
      const m = await startMoto({ env: { PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) } });
      cleanup.add('moto', () => m.stop());
      const d = await startMariaDb({ database: DATABASE_NAME });
      cleanup.add('mariadb', () => d.destroy());
      // The test server's 32 MB buffer pool is right for unit tests; a night of rows (~1 GB with
      // indexes) needs room, and a throw-away database needs no fsync per commit.
      await d.query(`SET GLOBAL innodb_buffer_pool_size = ${LOCAL_BUFFER_POOL_BYTES}`);
      await d.query('SET GLOBAL innodb_flush_log_at_trx_commit = 2');
      return { value: [m, d] as const, detail: `moto ${m.endpoint}, mariadb 127.0.0.1:${d.port}` };
    });
    report.servers = { motoEndpoint: moto.endpoint, motoPort: moto.port, dbPort: db.port };
    write(`servers: moto ${moto.endpoint} mariadb 127.0.0.1:${db.port}\n`);

    const awsEnv: Record<string, string> = {
      AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: cfg.region, AWS_DEFAULT_REGION: cfg.region,
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', POWERTOOLS_TRACE_ENABLED: 'false', NODE_NO_WARNINGS: '1',
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(),
    };
    Object.assign(process.env, awsEnv);
    const dbEndpoint = { host: db.host, port: db.port, user: db.user, password: db.password };
    const provisioned = await progress.stage('provision', 'buckets, tables, topics, queues, KMS, IAM, Batch, secret, SES in moto', async () => {
      const p = await provision(moto.endpoint, moto.clientConfig, cfg, dbEndpoint);
      return { value: p, detail: `${Object.keys(p.names.buckets).length} buckets, ${Object.keys(p.names.tables).length} tables, queue ${p.jobQueueArn.split('/').pop()}` };
    });

    // The orchestrator sizes shards from TRANSACTIONS_PER_JOB; locally --shards decides instead.
    const transactionsPerJob = Math.max(1, Math.ceil(args.count / args.shards));
    const environments = functionEnvironments(provisioned, cfg, dbEndpoint, { transactionsPerJob });
    const lambdas = lambdaRuntime({ environments, functionArn: provisioned.names.functionArn, functionName: provisioned.names.name });

    process.stdout.write = capture;
    process.stderr.write = capture;
    let chain: ChainResult;
    try {
      chain = await runChain({
        night: args.night, count: args.count, shards: args.shards, badShare: args.badShare, seed: args.seed, runId: args.runId, workDir, cfg, reporting,
        crossShardDuplicates: args.crossShardDuplicates ?? Math.min(1000, Math.ceil(args.count / 1000)),
      }, { endpoint: moto.endpoint, clientConfig: moto.clientConfig, provisioned, lambdas, awsEnv, log, progress });
    } finally {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    }
    await new Promise<void>((r) => log.write('', () => r()));
    const outcome = await collectOutcome({
      chain,
      s3: new S3Client({ ...moto.clientConfig, forcePathStyle: true }),
      sqs: new SQSClient(moto.clientConfig),
      endpoint: moto.endpoint,
      reportsBucket: provisioned.names.buckets.reports,
      alertTaps: provisioned.alertTaps,
      loadedRows: async () => Number((await db.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM \`${DATABASE_NAME}\`.transactions WHERE run_id = ?`, [args.runId]))[0].n),
      coverage: async () => {
        const q = async (sql: string, params: unknown[] = []) => (await db.query<{ v: string }[]>(sql, params)).map((r) => String(r.v));
        return {
          reportDates: await q(`SELECT DISTINCT DATE_FORMAT(report_date, '%Y-%m-%d') AS v FROM \`${DATABASE_NAME}\`.report_log ORDER BY v`),
          loadedDates: await q(`SELECT DISTINCT DATE_FORMAT(\`timestamp\`, '%Y-%m-%d') AS v FROM \`${DATABASE_NAME}\`.transactions WHERE run_id = ? ORDER BY v`, [args.runId]),
          loadedEntities: await q(`SELECT DISTINCT entity_id AS v FROM \`${DATABASE_NAME}\`.transactions WHERE run_id = ? ORDER BY v`, [args.runId]),
          accepted: await acceptedBreakdown(db, args.runId, reportDateOfRun(args.runId) ?? null, reporting),
        };
      },
      reportLog: () => db.query(`SELECT status, COUNT(*) AS n, SUM(sha256 IS NOT NULL) AS generated, COALESCE(SUM(transaction_count), 0) AS txs FROM \`${DATABASE_NAME}\`.report_log GROUP BY status`),
      plannedReports: reporting.jurisdictions.length * reporting.reportTypes.length * reporting.entities.length,
      night: args.night,
      reportDate: reportDateOfRun(args.runId) ?? null,
      logText: fs.readFileSync(logFile, 'utf8'),
      stages: progress.timings,
      windowHours: cfg.batch.windowHours,
    });
    report.outcome = outcome;
    report.ok = nightOk(outcome);
    outcome.timeline = writeTimeline(workDir, timelineInput(outcome, cfg, args));
    write(renderSummary(outcome));
    if (args.keep) {
      write(`\n--keep: servers stay up (moto ${moto.endpoint}, mariadb 127.0.0.1:${db.port} user ${db.user} password ${db.password}, database ${db.database}); work dir ${workDir}. Ctrl-C stops them.\n`);
      await new Promise(() => undefined);
    }
    return report;
  } catch (err) {
    report.error = `${(err as Error).name}: ${(err as Error).message}`;
    write(`\nlocal run failed: ${report.error}\nrun log: ${logFile}\n`);
    return report;
  } finally {
    await cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (args.summaryJson) fs.writeFileSync(args.summaryJson, JSON.stringify(report, null, 2));
    await new Promise<void>((r) => log.end(() => r()));
    if (!args.keep && !args.workDir) {
      // The input file is large and regenerable; the log stays for the operator.
      for (const f of fs.readdirSync(workDir)) if (f.endsWith('.csv')) fs.rmSync(path.join(workDir, f), { force: true });
    }
  }
}
