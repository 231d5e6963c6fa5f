/**
 * The run's outcome, read back from where the platform records it (job-status table, shard
 * summaries in S3, report_log in the database, the reports bucket, the messages moto's SES captured,
 * the alert topics) and checked against the generator's manifest; plus the table an operator reads at the end.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ChainResult } from './chain';
import type { StageTiming } from './progress';

export interface Outcome {
  records: { read: number; accepted: number; rejected: number; duplicates: number };
  expected: { read: number; accepted: number; rejected: number; duplicates: number };
  totals: { byCurrency: Record<string, { actual: string; expected: string }> };
  reconciliationOk: boolean;
  /** Rows of the run in the reporting database's transactions table (report-loader). */
  loadedRows: number;
  /** What the loaded data covers, to explain empty reports. */
  coverage: { reportDates: string[]; loadedDates: string[]; loadedEntities: string[] };
  jobs: { total: number; succeeded: number; statuses: Record<string, number>; runCompleted: boolean };
  reports: { planned: number; objects: number; generated: number; transactions: number; valid: number; delivered: number; confirmed: number; failed: number; byStatus: Record<string, number> };
  /**
   * `deliveries`: (report x recipient) deliveries report-deliver returned; `messages`: the messages moto's
   * SES backend captured (one per SendEmail, raw or simple, whatever the number of addresses in it).
   */
  emails: { deliveries: number; messages: number };
  alerts: { batch: number; reporting: number };
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
  windowHours: number;
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

async function drain(sqs: SQSClient, url: string): Promise<number> {
  let n = 0;
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return n;
    n += r.Messages.length;
  }
}

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
  const records = { read: 0, accepted: 0, rejected: 0, duplicates: 0 };
  const actualTotals: Record<string, bigint> = {};
  for (const s of chain.shardSummaries) {
    records.read += s.counts.read;
    records.accepted += s.counts.accepted;
    records.rejected += s.counts.rejected;
    records.duplicates += s.counts.duplicates;
    for (const [cur, t] of Object.entries(s.totals.byCurrency)) actualTotals[cur] = (actualTotals[cur] ?? 0n) + BigInt(t.amountMinor);
  }
  const currencies = [...new Set([...Object.keys(actualTotals), ...Object.keys(m.totalsMinor)])].sort();
  const byCurrency = Object.fromEntries(currencies.map((c) => [c, { actual: (actualTotals[c] ?? 0n).toString(), expected: m.totalsMinor[c] ?? '0' }]));
  const jobCounts = chain.jobItems.reduce<{ accepted: number; rejected: number; duplicates: number }>((s, i) => ({
    accepted: s.accepted + num(i.processedCount), rejected: s.rejected + num(i.rejectedCount), duplicates: s.duplicates + num(i.duplicateCount),
  }), { accepted: 0, rejected: 0, duplicates: 0 });
  const statuses: Record<string, number> = {};
  for (const i of chain.jobItems) statuses[String(i.status)] = (statuses[String(i.status)] ?? 0) + 1;
  const reconciliationOk = records.read === expected.read && records.accepted === expected.accepted && records.rejected === expected.rejected
    && records.duplicates === expected.duplicates && currencies.every((c) => byCurrency[c].actual === byCurrency[c].expected)
    && jobCounts.accepted === records.accepted && jobCounts.rejected === records.rejected && jobCounts.duplicates === records.duplicates;

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
  return {
    records,
    expected,
    totals: { byCurrency },
    reconciliationOk,
    loadedRows: await args.loadedRows(),
    coverage: await args.coverage(),
    jobs: { total: chain.jobItems.length, succeeded: statuses.SUCCEEDED ?? 0, statuses, runCompleted: chain.runRecord?.completedAt !== undefined },
    reports: {
      planned: args.plannedReports,
      objects: await countObjects(args.s3, args.reportsBucket, 'reports/'),
      generated,
      transactions,
      valid: countOf('VALIDATED', 'DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'),
      delivered: countOf('DELIVERED', 'CONFIRMED', 'DELIVERY_FAILED'),
      confirmed: countOf('CONFIRMED'),
      failed: countOf('FAILED', 'VALIDATION_FAILED', 'DELIVERY_FAILED'),
      byStatus,
    },
    emails: { deliveries: chain.sent.length, messages },
    alerts: { batch: await drain(args.sqs, args.alertTaps.batch), reporting: await drain(args.sqs, args.alertTaps.reporting) },
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
    windowHours: args.windowHours,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const mark = (ok: boolean) => (ok ? 'OK' : 'MISMATCH');

export function renderSummary(o: Outcome): string {
  const rows: [string, string, string][] = [];
  const pair = (label: string, actual: number, expected?: number) => rows.push([label, fmt(actual), expected === undefined ? '' : actual === expected ? 'OK' : `expected ${fmt(expected)}`]);
  pair('records read', o.records.read, o.expected.read);
  pair('records accepted', o.records.accepted, o.expected.accepted);
  pair('records rejected', o.records.rejected, o.expected.rejected);
  pair('duplicates', o.records.duplicates, o.expected.duplicates);
  for (const [cur, t] of Object.entries(o.totals.byCurrency)) rows.push([`total ${cur} (minor units)`, t.actual, t.actual === t.expected ? 'OK' : `expected ${t.expected}`]);
  rows.push(['reconciliation', mark(o.reconciliationOk), '']);
  rows.push(['rows in reporting DB', fmt(o.loadedRows), o.loadedRows === o.records.accepted ? 'OK (= accepted)' : `expected ${fmt(o.records.accepted)}`]);
  rows.push(['jobs succeeded', `${o.jobs.succeeded}/${o.jobs.total}`, JSON.stringify(o.jobs.statuses)]);
  rows.push(['nightly run complete', o.jobs.runCompleted ? 'yes' : 'no', 'run record in the job-status table']);
  rows.push(['reports planned', fmt(o.reports.planned), '']);
  rows.push(['reports generated', fmt(o.reports.generated), `${fmt(o.reports.objects)} object(s) in S3`]);
  rows.push(['report transactions', fmt(o.reports.transactions), 'rows of the report date across all reports']);
  rows.push(['reports valid', fmt(o.reports.valid), '']);
  rows.push(['reports delivered', fmt(o.reports.delivered), `${fmt(o.emails.messages)} message(s) sent through SES (moto), ${fmt(o.emails.deliveries)} recipient delivery(ies)`]);
  rows.push(['reports confirmed', fmt(o.reports.confirmed), '']);
  rows.push(['reports failed', fmt(o.reports.failed), JSON.stringify(o.reports.byStatus)]);
  rows.push(['alerts published', `batch ${o.alerts.batch}, reporting ${o.alerts.reporting}`, '']);
  if (o.metrics.NightlyRunCompleted !== undefined) rows.push(['NightlyRunCompleted', String(o.metrics.NightlyRunCompleted), '']);
  const n = o.night;
  rows.push(['night', n.mode, `report date ${n.reportDate ?? '-'}`]);
  if (n.deadlineWhen) {
    rows.push(['reporting-time check', n.deadlineLoaded ? 'loaded' : 'NOT loaded',
      `${n.deadlineAlerted ? 'alert published' : 'no alert'}; run ${n.deadlineRunOutcome} (${n.deadlineWhen})`]);
  }
  rows.push(['reporting started by', n.reportingStarted ? 'loader' : 'nobody', n.executionName ? `execution ${n.executionName} ${JSON.stringify(n.executionInput)}` : '']);
  if (n.generateRefusal) rows.push(['generate for the date', 'refused', n.generateRefusal.slice(0, 120)]);
  if (o.metrics.ReportingInputMissing !== undefined) rows.push(['ReportingInputMissing', String(o.metrics.ReportingInputMissing), '']);
  const notes: string[] = [];
  if (o.reports.transactions === 0 && o.loadedRows > 0) {
    const c = o.coverage;
    notes.push(`note: every report is empty: report date(s) ${c.reportDates.join(', ') || '-'} vs loaded transaction dates ${c.loadedDates.join(', ')}`
      + ` and entities ${c.loadedEntities.join(', ')} (pick reported entities with --entities; the dates come from the generator)`);
  }
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  const out = ['', 'Outcome', ...rows.map(([a, b, c]) => `  ${a.padEnd(w1)}  ${b.padStart(w2)}  ${c}`), ...notes.map((n) => `  ${n}`)];
  const window = o.windowHours * 3600;
  const total = o.stages.reduce((s, t) => s + t.seconds, 0);
  out.push('', `Time per stage (against the ${o.windowHours}-hour window = ${fmt(window)} s)`);
  for (const t of o.stages) {
    out.push(`  ${t.stage.padEnd(12)} ${t.seconds.toFixed(1).padStart(9)} s  ${((t.seconds / window) * 100).toFixed(3).padStart(7)} %${t.ok ? '' : '  FAILED'}`);
  }
  out.push(`  ${'total'.padEnd(12)} ${total.toFixed(1).padStart(9)} s  ${((total / window) * 100).toFixed(3).padStart(7)} %`);
  return out.join('\n') + '\n';
}
