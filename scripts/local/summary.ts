/**
 * The run's outcome, read back from where the platform records it (job-status table, shard
 * summaries in S3, report_log in the database, the reports bucket, the messages moto's SES captured,
 * the alert topics) and checked against the generator's manifest; plus the table an operator reads at the end.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ChainResult } from './chain';
import type { StageTiming } from './progress';
import type { ShardTiming } from './timeline';
import { DATABASE_NAME } from '../../contracts/reporting-database';
import { REPORTS_PREFIX } from '../../contracts/buckets';

export interface Outcome {
  /** Run level when the run was loaded (report-loader's run-summary.json), else the shard summaries summed. */
  records: { read: number; accepted: number; rejected: number; duplicates: number };
  /** Of `records.duplicates`: repeats in another shard or file than the first occurrence (caught at run level). */
  crossShardDuplicates?: number;
  expected: { read: number; accepted: number; rejected: number; duplicates: number };
  totals: { byCurrency: Record<string, { actual: string; expected: string }> };
  reconciliationOk: boolean;
  /** Rows of the run in the reporting database's transactions table (report-loader). */
  loadedRows: number;
  /**
   * What the loaded data covers, to explain empty reports and why report transactions differ from
   * accepted records: `accepted` splits the run's loaded rows into those a report of the report date
   * counts (its date, and a reported jurisdiction, report type and entity), those of the report date
   * outside the reported set, and those of other dates.
   */
  coverage: {
    reportDates: string[]; loadedDates: string[]; loadedEntities: string[];
    accepted?: { inReports: number; reportDateNotReported: number; otherDates: number };
  };
  jobs: { total: number; succeeded: number; statuses: Record<string, number>; runCompleted: boolean };
  reports: { planned: number; objects: number; generated: number; transactions: number; valid: number; delivered: number; confirmed: number; failed: number; byStatus: Record<string, number> };
  /**
   * `deliveries`: (report x recipient) deliveries report-deliver returned; `messages`: the messages moto's
   * SES backend captured (one per SendEmail, raw or simple, whatever the number of addresses in it).
   */
  emails: { deliveries: number; messages: number };
  alerts: { batch: number; reporting: number };
  /** The same alerts by kind (the `event` of the message, or what the message is), per topic. */
  alertKinds: { batch: Record<string, number>; reporting: Record<string, number> };
  metrics: Record<string, number>;
  workflow?: ChainResult['reporting'];
  /** The night's mode and how reporting was gated: the reporting-time check and who started reporting. */
  night: {
    mode: string;
    reportDate: string | null;
    deadlineLoaded?: boolean;
    deadlineAlerted?: boolean;
    deadlineRunOutcome?: string;
    deadlineWhen?: string;
    /** The loader started an execution (the only way reporting starts). */
    reportingStarted: boolean;
    executionName?: string;
    executionInput?: unknown;
    generateRefusal?: string;
  };
  stages: StageTiming[];
  /** Each processor shard's attempts (start, stop, exit code), for the timeline. */
  shards: ShardTiming[];
  windowHours: number;
  /** The night's timeline picture (timeline.ts), when written. */
  timeline?: string;
}

const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);

async function countObjects(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    n += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return n;
}

/** Every message body on an alert tap (raw SNS delivery: the body is the published message). */
async function drain(sqs: SQSClient, url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return bodies;
    bodies.push(...r.Messages.map((m) => m.Body ?? ''));
  }
}

/**
 * What an alert-topic message is. The batch-alerts topic carries the run's progress as well as its
 * failures: the orchestrator's run summary, each processor job's SUCCEEDED/FAILED notice and
 * job-events' RUN_COMPLETED (which the reporting loader subscribes to) are published on every night.
 */
export function alertKind(body: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    // The workflow's notifications are text (States.Format).
    if (/^Reporting run .* failed/.test(body)) return 'REPORTING_RUN_FAILED';
    if (/^Report .* failed at stage/.test(body)) return 'REPORT_FAILED';
    return 'OTHER';
  }
  if (!doc || typeof doc !== 'object') return 'OTHER';
  const o = doc as Record<string, unknown>;
  if (typeof o.event === 'string') return o.event;
  if (typeof o.status === 'string' && 'jobId' in o) return `JOB_${o.status}`;
  if ('submitted' in o) return 'RUN_STARTED';
  return 'OTHER';
}

/** Why each kind of alert is published, for the summary; kinds not listed need attention. */
export const ALERT_MEANINGS: Record<string, { routine: boolean; meaning: string }> = {
  RUN_STARTED: { routine: true, meaning: "orchestrator's run summary (jobs submitted), every night" },
  JOB_SUCCEEDED: { routine: true, meaning: "processor's notice per job, every job that succeeds" },
  RUN_COMPLETED: { routine: true, meaning: 'job-events: every job terminal; the reporting loader listens for it' },
  JOB_FAILED: { routine: false, meaning: 'a processor job failed (processor or job-events)' },
  NIGHTLY_RUN_NOT_SUCCEEDED: { routine: false, meaning: 'run-deadline: the run was late, failed or missing at the end of the window' },
  REPORTING_INPUT_MISSING: { routine: false, meaning: 'run-deadline: the report date had no loaded run at the reporting deadline' },
  REPORTING_NOT_STARTED: { routine: false, meaning: 'report-loader: the run had failed jobs, so nothing was loaded or reported' },
  REPORT_FAILED: { routine: false, meaning: 'the workflow: one report failed' },
  REPORTING_RUN_FAILED: { routine: false, meaning: 'the workflow failed as a whole' },
};

const countKinds = (bodies: string[]) => bodies.reduce<Record<string, number>>((acc, b) => {
  const k = alertKind(b);
  acc[k] = (acc[k] ?? 0) + 1;
  return acc;
}, {});

/**
 * Messages moto's SES backend holds as sent (`/moto-api/data.json`, `ses` -> RawMessage, Message,
 * TemplateMessage): one per send. SES's GetSendStatistics is no count of messages in moto: it adds up
 * addresses, and send_raw_email counts a recipient twice (the destination and the raw To header).
 */
export async function sentMessages(endpoint: string): Promise<number> {
  const res = await fetch(`${endpoint}/moto-api/data.json`);
  if (!res.ok) throw new Error(`moto data.json: HTTP ${res.status}`);
  const ses = ((await res.json()) as { ses?: Record<string, unknown[]> }).ses ?? {};
  return ['RawMessage', 'Message', 'TemplateMessage'].reduce((n, kind) => n + (Array.isArray(ses[kind]) ? ses[kind].length : 0), 0);
}

/** EMF metric values from the run log (the handlers' and the processor's metric lines), summed by name. */
export function emfTotals(logText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logText.split('\n')) {
    const start = line.indexOf('{"_aws"');
    if (start < 0) continue;
    try {
      const doc = JSON.parse(line.slice(start)) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } };
      for (const m of doc._aws.CloudWatchMetrics.flatMap((d) => d.Metrics)) {
        const v = doc[m.Name];
        out[m.Name] = (out[m.Name] ?? 0) + (Array.isArray(v) ? v.reduce((s: number, x) => s + num(x), 0) : num(v));
      }
    } catch {
      // a truncated or foreign line
    }
  }
  return out;
}

export async function collectOutcome(args: {
  chain: ChainResult;
  s3: S3Client;
  sqs: SQSClient;
  endpoint: string;
  reportsBucket: string;
  alertTaps: { batch: string; reporting: string };
  loadedRows: () => Promise<number>;
  coverage: () => Promise<Outcome['coverage']>;
  reportLog: () => Promise<{ status: string; n: number | string; generated: number | string; txs: number | string }[]>;
  plannedReports: number;
  night: string;
  reportDate: string | null;
  logText: string;
  stages: StageTiming[];
  windowHours: number;
}): Promise<Outcome> {
  const { chain } = args;
  const m = chain.manifest;
  const badTotal = Object.values(m.bad).reduce((s, v) => s + v, 0);
  const expected = { read: m.count, accepted: m.acceptedCount, duplicates: m.bad.duplicate ?? 0, rejected: badTotal - (m.bad.duplicate ?? 0) };
  const shardSums = { read: 0, accepted: 0, rejected: 0, duplicates: 0 };
  const shardTotals: Record<string, bigint> = {};
  for (const s of chain.shardSummaries) {
    shardSums.read += s.counts.read;
    shardSums.accepted += s.counts.accepted;
    shardSums.rejected += s.counts.rejected;
    shardSums.duplicates += s.counts.duplicates;
    for (const [cur, t] of Object.entries(s.totals.byCurrency)) shardTotals[cur] = (shardTotals[cur] ?? 0n) + BigInt(t.amountMinor);
  }
  // Run level (report-loader's run-summary.json): a transactionId repeated in another shard is counted
  // once there; the shard summaries alone count it in each shard.
  const run = chain.runSummary;
  const records = run
    ? { read: run.counts.read, accepted: run.counts.accepted, rejected: run.counts.rejected, duplicates: run.counts.duplicatesWithinShards + run.counts.crossShardDuplicates }
    : shardSums;
  const actualTotals: Record<string, bigint> = run
    ? Object.fromEntries(Object.entries(run.totalsByCurrency).map(([c, t]) => [c, BigInt(t.amountMinor)]))
    : shardTotals;
  const currencies = [...new Set([...Object.keys(actualTotals), ...Object.keys(m.totalsMinor)])].sort();
  const byCurrency = Object.fromEntries(currencies.map((c) => [c, { actual: (actualTotals[c] ?? 0n).toString(), expected: m.totalsMinor[c] ?? '0' }]));
  const jobCounts = chain.jobItems.reduce<{ accepted: number; rejected: number; duplicates: number }>((s, i) => ({
    accepted: s.accepted + num(i.processedCount), rejected: s.rejected + num(i.rejectedCount), duplicates: s.duplicates + num(i.duplicateCount),
  }), { accepted: 0, rejected: 0, duplicates: 0 });
  const statuses: Record<string, number> = {};
  for (const i of chain.jobItems) statuses[String(i.status)] = (statuses[String(i.status)] ?? 0) + 1;
  const reconciliationOk = records.read === expected.read && records.accepted === expected.accepted && records.rejected === expected.rejected
    && records.duplicates === expected.duplicates && currencies.every((c) => byCurrency[c].actual === byCurrency[c].expected)
    && jobCounts.accepted === shardSums.accepted && jobCounts.rejected === shardSums.rejected && jobCounts.duplicates === shardSums.duplicates;

  const byStatus: Record<string, number> = {};
  let generated = 0;
  let transactions = 0;
  for (const r of await args.reportLog()) {
    byStatus[r.status] = num(r.n);
    generated += num(r.generated);
    transactions += num(r.txs);
  }
  const countOf = (...s: string[]) => s.reduce((t, k) => t + (byStatus[k] ?? 0), 0);
  const messages = await sentMessages(args.endpoint);
  const alertBodies = { batch: await drain(args.sqs, args.alertTaps.batch), reporting: await drain(args.sqs, args.alertTaps.reporting) };
  return {
    records,
    crossShardDuplicates: run?.counts.crossShardDuplicates ?? 0,
    expected,
    totals: { byCurrency },
    reconciliationOk,
    loadedRows: await args.loadedRows(),
    coverage: await args.coverage(),
    jobs: { total: chain.jobItems.length, succeeded: statuses.SUCCEEDED ?? 0, statuses, runCompleted: chain.runRecord?.completedAt !== undefined },
    reports: {
      planned: args.plannedReports,
      objects: await countObjects(args.s3, args.reportsBucket, REPORTS_PREFIX),
      generated,
      transactions,
      valid: countOf('VALIDATED', 'DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'),
      delivered: countOf('DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'),
      confirmed: countOf('CONFIRMED'),
      failed: countOf('FAILED', 'VALIDATION_FAILED', 'DELIVERY_FAILED'),
      byStatus,
    },
    emails: { deliveries: chain.sent.length, messages },
    alerts: { batch: alertBodies.batch.length, reporting: alertBodies.reporting.length },
    alertKinds: { batch: countKinds(alertBodies.batch), reporting: countKinds(alertBodies.reporting) },
    metrics: emfTotals(args.logText),
    workflow: chain.reporting,
    night: {
      mode: args.night,
      reportDate: args.reportDate,
      deadlineLoaded: chain.deadline?.loaded,
      deadlineAlerted: chain.deadline?.alerted,
      deadlineRunOutcome: chain.deadline?.runOutcome,
      deadlineWhen: chain.deadline?.when,
      reportingStarted: chain.execution !== undefined,
      executionName: chain.execution?.name,
      executionInput: chain.execution?.input,
      generateRefusal: chain.refusal,
    },
    stages: args.stages,
    shards: chain.children.map((c) => ({ index: c.index ?? 0, jobName: c.job.jobName, status: c.status, attempts: c.attempts })),
    windowHours: args.windowHours,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mark = (ok: boolean) => (ok ? 'OK' : 'MISMATCH');
const kinds = (k: Record<string, number>) => Object.entries(k).sort().map(([kind, n]) => `${n} ${kind}`).join(', ');

/** One line per kind of alert: how many, on which topic, and why it is published. */
export function alertLines(o: Pick<Outcome, 'alertKinds'>): string[] {
  const lines: string[] = [];
  for (const topic of ['batch', 'reporting'] as const) {
    for (const [kind, n] of Object.entries(o.alertKinds[topic]).sort()) {
      const m = ALERT_MEANINGS[kind];
      lines.push(`${topic}-alerts: ${n} ${kind}: ${m ? `${m.meaning}${m.routine ? ' (routine, not a failure)' : ' (needs attention)'}` : 'unrecognised message (needs attention)'}`);
    }
  }
  return lines;
}

/** Why report transactions differ from accepted records, in numbers when the breakdown is known. */
export function reportTransactionsNote(o: Pick<Outcome, 'records' | 'reports' | 'coverage' | 'night'>): string {
  const a = o.coverage.accepted;
  const date = o.night.reportDate ?? o.coverage.reportDates[0] ?? '-';
  const rule = `a report counts the accepted records of its jurisdiction, report type and entity dated on the report date (${date}), once`;
  if (!a) return `report transactions vs accepted records: ${rule}; records of other dates or outside the reported set are loaded but in no report of this date`;
  const sum = a.inReports + a.reportDateNotReported + a.otherDates;
  const check = a.inReports === o.reports.transactions ? 'OK' : `MISMATCH: reports list ${fmt(o.reports.transactions)}`;
  return `report transactions vs accepted records: ${rule}. Of the ${fmt(sum)} loaded: ${fmt(a.inReports)} in this date's reports (${check}), `
    + `${fmt(a.reportDateNotReported)} of the report date outside the reported jurisdictions/types/entities, `
    + `${fmt(a.otherDates)} of other dates (the generator spreads timestamps over ${o.coverage.loadedDates.length} date(s): ${o.coverage.loadedDates.join(', ') || '-'})`;
}

export function renderSummary(o: Outcome): string {
  const rows: [string, string, string][] = [];
  const pair = (label: string, actual: number, expected: number, meaning: string) => rows.push([label, fmt(actual), `${actual === expected ? 'OK' : `expected ${fmt(expected)}`}  ${meaning}`]);
  pair('records read', o.records.read, o.expected.read, 'lines the processor shards read (= the generated file)');
  pair('records accepted', o.records.accepted, o.expected.accepted, 'passed validation and dedupe: written to processed/');
  pair('records rejected', o.records.rejected, o.expected.rejected, 'failed validation: written to rejects with reasons');
  pair('duplicates', o.records.duplicates, o.expected.duplicates, `repeated transactionId: each repeat dropped and counted, ${fmt(o.crossShardDuplicates ?? 0)} of them in another shard than the first occurrence (read = accepted + rejected + duplicates)`);
  for (const [cur, t] of Object.entries(o.totals.byCurrency)) rows.push([`total ${cur} (minor units)`, t.actual, `${t.actual === t.expected ? 'OK' : `expected ${t.expected}`}  sum of accepted amounts vs the generator's manifest`]);
  rows.push(['reconciliation', mark(o.reconciliationOk), "the run's totals (report-loader), shard summaries, job-status rows and the manifest agree on every count and total"]);
  rows.push(['rows in reporting DB', fmt(o.loadedRows), `${o.loadedRows === o.records.accepted ? 'OK (= accepted)' : `expected ${fmt(o.records.accepted)}`}  report-loader's rows of this run`]);
  rows.push(['jobs succeeded', `${o.jobs.succeeded}/${o.jobs.total}`, `${JSON.stringify(o.jobs.statuses)}  Batch jobs of the run in the job-status table`]);
  rows.push(['nightly run complete', o.jobs.runCompleted ? 'yes' : 'no', 'run record in the job-status table (every job terminal)']);
  rows.push(['reports planned', fmt(o.reports.planned), 'jurisdictions x report types x entities of this run']);
  rows.push(['reports generated', fmt(o.reports.generated), `${fmt(o.reports.objects)} object(s) in S3`]);
  rows.push(['report transactions', fmt(o.reports.transactions), 'records listed across all reports of the report date (see note: not the accepted count)']);
  rows.push(['reports valid', fmt(o.reports.valid), 'passed report-validate (schema, counts, totals)']);
  rows.push(['reports delivered', fmt(o.reports.delivered), `${fmt(o.emails.messages)} message(s) sent through SES (moto), ${fmt(o.emails.deliveries)} recipient delivery(ies)`]);
  rows.push(['reports confirmed', fmt(o.reports.confirmed), "every recipient's server accepted (SES delivery events -> report-confirm)"]);
  rows.push(['reports failed', fmt(o.reports.failed), `${JSON.stringify(o.reports.byStatus)}  report_log status of every report`]);
  const routine = (k: Record<string, number>) => Object.keys(k).every((kind) => ALERT_MEANINGS[kind]?.routine);
  const allRoutine = routine(o.alertKinds.batch) && routine(o.alertKinds.reporting);
  rows.push(['alerts published', `batch ${o.alerts.batch}, reporting ${o.alerts.reporting}`,
    `${[kinds(o.alertKinds.batch), kinds(o.alertKinds.reporting)].filter(Boolean).join('; ') || 'none'}${o.alerts.batch + o.alerts.reporting === 0 ? '' : allRoutine ? ': routine notices, no failure (see alerts below)' : ': see alerts below'}`]);
  if (o.metrics.NightlyRunCompleted !== undefined) rows.push(['NightlyRunCompleted', String(o.metrics.NightlyRunCompleted), 'metric: 1 when the run completed (the SLA alarm reads it)']);
  const n = o.night;
  rows.push(['night', n.mode, `report date ${n.reportDate ?? '-'} (the previous business day of the run date)`]);
  if (n.deadlineWhen) {
    rows.push(['reporting-time check', n.deadlineLoaded ? 'loaded' : 'NOT loaded',
      `${n.deadlineAlerted ? 'alert published' : 'no alert'}; run ${n.deadlineRunOutcome} (${n.deadlineWhen}): run-deadline at schedules.dailyReporting`]);
  }
  rows.push(['reporting started by', n.reportingStarted ? 'loader' : 'nobody', n.executionName ? `execution ${n.executionName} ${JSON.stringify(n.executionInput)}` : 'no execution: reporting starts only from a load']);
  if (n.generateRefusal) rows.push(['generate for the date', 'refused', n.generateRefusal.slice(0, 120)]);
  if (o.metrics.ReportingInputMissing !== undefined) rows.push(['ReportingInputMissing', String(o.metrics.ReportingInputMissing), 'metric: 1 when the report date had no loaded run at the deadline (pages)']);
  const notes: string[] = [];
  if (o.reports.transactions === 0 && o.loadedRows > 0) {
    const c = o.coverage;
    notes.push(`note: every report is empty: report date(s) ${c.reportDates.join(', ') || '-'} vs loaded transaction dates ${c.loadedDates.join(', ')}`
      + ` and entities ${c.loadedEntities.join(', ')} (pick reported entities with --entities; the dates come from the generator)`);
  }
  if (o.loadedRows > 0) notes.push(`note: ${reportTransactionsNote(o)}`);
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  const out = ['', 'Outcome', ...rows.map(([a, b, c]) => `  ${a.padEnd(w1)}  ${b.padStart(w2)}  ${c}`.trimEnd()), ...notes.map((x) => `  ${x}`)];
  const alerts = alertLines(o);
  if (alerts.length) out.push('', 'Alerts published (the alert topics carry routine notices as well as failures)', ...alerts.map((l) => `  ${l}`));
  const window = o.windowHours * 3600;
  const total = o.stages.reduce((s, t) => s + t.seconds, 0);
  out.push('', `Time per stage (against the ${o.windowHours}-hour window = ${fmt(window)} s; share = stage time / window)`);
  for (const t of o.stages) {
    out.push(`  ${t.stage.padEnd(12)} ${t.seconds.toFixed(1).padStart(9)} s  ${((t.seconds / window) * 100).toFixed(3).padStart(7)} %${t.ok ? '' : '  FAILED'}`);
  }
  out.push(`  ${'total'.padEnd(12)} ${total.toFixed(1).padStart(9)} s  ${((total / window) * 100).toFixed(3).padStart(7)} %`);
  if (o.timeline) out.push('', `timeline: ${o.timeline}  (the night against the batch window, and every stage and shard; open it in a browser)`);
  return out.join('\n') + '\n';
}

/**
 * Splits the run's loaded rows the way reports select them (report-generate: jurisdiction, report type,
 * entity and a timestamp on the report date): counted in this date's reports, of the report date but
 * outside the reported set, of other dates.
 */
export async function acceptedBreakdown(
  db: { query<T>(sql: string, params?: unknown[]): Promise<T> },
  runId: string,
  reportDate: string | null,
  set: { jurisdictions: readonly string[]; reportTypes: readonly string[]; entities: readonly string[] },
): Promise<NonNullable<Outcome['coverage']['accepted']>> {
  const [r] = await db.query<{ inReports: string | null; onDate: string | null; total: string }[]>(
    `SELECT SUM(DATE(\`timestamp\`) = ? AND jurisdiction IN (?) AND report_type IN (?) AND entity_id IN (?)) AS inReports,
       SUM(DATE(\`timestamp\`) = ?) AS onDate, COUNT(*) AS total
     FROM \`${DATABASE_NAME}\`.transactions WHERE run_id = ?`,
    [reportDate, [...set.jurisdictions], [...set.reportTypes], [...set.entities], reportDate, runId]);
  const inReports = num(r?.inReports ?? 0);
  const onDate = num(r?.onDate ?? 0);
  return { inReports, reportDateNotReported: onDate - inReports, otherDates: num(r?.total ?? 0) - onDate };
}
