/**
 * The pieces of the local run that stand in for AWS behaviour: Batch's evaluateOnExit (with the real
 * job definition's rules), the Batch/SES event shapes fed to handlers, EMF parsing of the run log, and
 * the command line.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { EVALUATE_ON_EXIT } from '../../stacks/compute/job-definition';
import { parseArgs } from '../../scripts/local/args';
import { lambdaRuntime } from '../../scripts/local/handlers';
import { batchJobEvents, sesDeliveredEvent } from '../../scripts/local/events';
import { ChildRun, retryAction, SubmittedJob } from '../../scripts/local/processor-pool';
import { alertKind, alertLines, emfTotals, Outcome, renderSummary, reportTransactionsNote } from '../../scripts/local/summary';
import { deadlineHoursOf, STAGE_GROUPS, timelineSvg, TimelineInput, writeTimeline } from '../../scripts/local/timeline';
import * as fs from 'fs';
import * as os from 'os';

const ROOT = path.resolve(__dirname, '..', '..');

describe('Batch retry strategy as the local pool applies it', () => {
  it('retries 75 and 143 and exits on bad input (2), reconciliation failure (3) and crashes', () => {
    expect(retryAction(EVALUATE_ON_EXIT, 75)).toBe('RETRY');
    expect(retryAction(EVALUATE_ON_EXIT, 143)).toBe('RETRY');
    for (const code of [1, 2, 3, 137]) expect(retryAction(EVALUATE_ON_EXIT, code)).toBe('EXIT');
  });
  it('retries when no rule matches (Batch default)', () => {
    expect(retryAction([{ action: 'EXIT', onExitCode: '2' }], 3)).toBe('RETRY');
  });
});

describe('events fed to handlers', () => {
  const job: SubmittedJob = {
    batchJobId: 'abc', batchJobArn: 'arn:aws:batch:us-east-1:123456789012:job/abc', jobName: 'tx', jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/q',
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/d:1', environment: { JOB_ID: 'job-1', RUN_ID: '2026-11-23', SHARD_COUNT: '2' }, arraySize: 2, createdAt: 1,
  };
  const child = (index: number, exitCode: number): ChildRun => ({
    job, index, status: exitCode === 0 ? 'SUCCEEDED' : 'FAILED', attempts: [{ exitCode, startedAt: 10 + index, stoppedAt: 20 + index }],
  });

  it('sends one event per array child and then the parent, FAILED when any child failed', () => {
    const events = batchJobEvents(job, [child(1, 2), child(0, 0)], '123456789012', 'us-east-1') as { source: string; 'detail-type': string; detail: any }[];
    expect(events.map((e) => [e.detail.jobId, e.detail.status])).toEqual([['abc:0', 'SUCCEEDED'], ['abc:1', 'FAILED'], ['abc', 'FAILED']]);
    expect(events.every((e) => e.source === 'aws.batch' && e['detail-type'] === 'Batch Job State Change')).toBe(true);
    expect(events[1].detail.container).toEqual(expect.objectContaining({ exitCode: 2, environment: expect.arrayContaining([{ name: 'JOB_ID', value: 'job-1' }]) }));
    expect(events[2].detail.arrayProperties).toEqual({ size: 2, statusSummary: expect.objectContaining({ SUCCEEDED: 1, FAILED: 1 }) });
    expect(events[0].detail.arrayProperties).toEqual({ index: 0 });
  });

  it('tags SES delivery events with the report id as report-deliver does', () => {
    const e = sesDeliveredEvent({ reportId: 'EU-TRANSACTION-E-2026-11-20', messageId: 'm-1', recipient: 'a@example.eu', jurisdiction: 'EU', reportType: 'TRANSACTION' },
      'reports@example.com', 'finbatch-dev-reports', '123456789012', 'us-east-1') as any;
    expect(e).toEqual(expect.objectContaining({ source: 'aws.ses', 'detail-type': 'Email Delivered' }));
    expect(e.detail.mail).toEqual(expect.objectContaining({ messageId: 'm-1', destination: ['a@example.eu'] }));
    expect(e.detail.mail.tags).toEqual(expect.objectContaining({ reportId: ['EU-TRANSACTION-E-2026-11-20'], 'ses:configuration-set': ['finbatch-dev-reports'] }));
  });
});

describe('run log', () => {
  it('sums EMF metrics by name, also behind a log prefix, and ignores other lines', () => {
    const emf = (v: number) => JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'FinancialBatch', Dimensions: [['Environment']], Metrics: [{ Name: 'RecordsRead', Unit: 'Count' }] }] }, Environment: 'dev', RecordsRead: v });
    expect(emfTotals([emf(3), `[tx:1#1] ${emf(4)}`, '{"level":"INFO","msg":"x"}', 'plain'].join('\n'))).toEqual({ RecordsRead: 7 });
  });
});

describe('local Lambda runtime', () => {
  it('runs one event at a time per function, like one Lambda container, and different functions side by side', async () => {
    const log: string[] = [];
    const handler = (name: string) => async (event: unknown) => {
      log.push(`${name} start ${String(event)}`);
      await new Promise((r) => setTimeout(r, 20));
      log.push(`${name} end ${String(event)}`);
      if (event === 'bad') throw new Error('boom');
      return event;
    };
    const rt = lambdaRuntime({
      environments: { a: {}, b: {} }, functionArn: (e) => `arn:${e}`, functionName: (e) => e,
      load: async (entry) => handler(entry),
    });
    const results = await Promise.allSettled([rt.invoke('a', 'bad'), rt.invoke('a', 2), rt.invoke('b', 3)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    // a's second event starts only after its first ended (even though that one failed); b did not wait.
    expect(log.indexOf('a start 2')).toBeGreaterThan(log.indexOf('a end bad'));
    expect(log.indexOf('b start 3')).toBeLessThan(log.indexOf('a end bad'));
  });
});

describe('npm run local arguments', () => {
  it('defaults to a million records and names the flag and rule on bad input', () => {
    const a = parseArgs([], new Date('2026-11-23T00:00:00Z'));
    expect(a).toEqual(expect.objectContaining({ count: 1_000_000, badShare: 0.03, keep: false, runId: '2026-11-23' }));
    expect(parseArgs(['--count', '20_000', '--shards', '3', '--bad-share', '0.1', '--keep', '--entities', 'A,B'])).toEqual(
      expect.objectContaining({ count: 20000, shards: 3, badShare: 0.1, keep: true, entities: ['A', 'B'] }));
    expect(() => parseArgs(['--count', '0'])).toThrow(/--count must be an integer >= 1, got "0"/);
    expect(() => parseArgs(['--bad-share', '1.5'])).toThrow(/--bad-share must be a number between 0 and 1/);
    expect(() => parseArgs(['--shard', '2'])).toThrow(/unknown option --shard/);
    expect(() => parseArgs(['--run-id', '23/11/2026'])).toThrow(/--run-id must be a date YYYY-MM-DD/);
  });

  it('--night is on-time by default, takes late or missing, and refuses anything else', () => {
    expect(parseArgs([]).night).toBe('on-time');
    expect(parseArgs(['--night', 'late']).night).toBe('late');
    expect(parseArgs(['--night', 'missing']).night).toBe('missing');
    expect(() => parseArgs(['--night', 'early'])).toThrow(/--night must be one of on-time, late, missing, got "early" \(see --help\)/);
    expect(() => parseArgs(['--night'])).toThrow(/--night needs a value/);
  });

  it.each([['1'], ['2026-02-30'], ['+20261-11-23'], ['1999-12-31'], ['2026-11-23T00:00:00Z']])('refuses --run-id %p (strict calendar date)', (runId) => {
    expect(() => parseArgs(['--run-id', runId])).toThrow(/--run-id must be a date YYYY-MM-DD \(a real calendar day, years 2000-2100\)/);
  });

  it('--help/-h anywhere asks for help, even after a bad value; errors are one line', () => {
    for (const argv of [['--help'], ['-h'], ['--count', '0', '--help'], ['--run-id', '-h']]) {
      expect(() => parseArgs(argv)).toThrow(expect.objectContaining({ name: 'ArgsError', help: true, message: expect.stringMatching(/^usage: npm run local/) }));
    }
    for (const argv of [['--bogus'], ['--count'], ['--count', '--keep'], ['--run-id', 'x'.repeat(500)]]) {
      let message = '';
      try {
        parseArgs(argv);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/ \(see --help\)$/);
      expect(message).not.toContain('\n');
      expect(message.length).toBeLessThan(200);
    }
  });
});

describe('npm run local command line', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'local-run.ts'), ...args], { encoding: 'utf8', timeout: 60_000 });
  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('npm run local:'));

  it('--help prints the usage on stdout and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run local -- /);
    expect(r.stdout).toMatch(/-h, --help/);
    expect(errorLines(r.stderr)).toEqual([]);
  });

  it('a bad option exits 2 with one clear line on stderr and nothing started', () => {
    for (const [args, line] of [[['--bogus'], 'npm run local: unknown option --bogus (see --help)'], [['--run-id', '2026-02-30'], /^npm run local: --run-id must be a date/]] as const) {
      const r = cli([...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(errorLines(r.stderr)).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
      expect(r.stderr).not.toMatch(/usage:/);
    }
  });
});


/**
 * A tiny XML well-formedness check: declaration, balanced and properly nested tags, quoted attributes
 * without duplicates, and only the five predefined entities (or numeric ones) in text and attributes.
 * Returns the elements as [name, attributes] in document order.
 */
function parseXml(xml: string): [string, Record<string, string>][] {
  const elements: [string, Record<string, string>][] = [];
  const stack: string[] = [];
  const checkText = (t: string) => {
    if (/[<>]/.test(t)) throw new Error(`bare < or > in text: ${t.slice(0, 40)}`);
    for (const m of t.matchAll(/&([^;\s]*);?/g)) if (!/^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);$/i.test(m[0])) throw new Error(`bad entity ${m[0]}`);
  };
  let rest = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  if (rest === xml) throw new Error('no XML declaration');
  while (rest.length) {
    const lt = rest.indexOf('<');
    if (lt < 0) { checkText(rest); break; }
    checkText(rest.slice(0, lt));
    const gt = rest.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = rest.slice(lt + 1, gt);
    rest = rest.slice(gt + 1);
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (open !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open}>`);
      continue;
    }
    const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)$/.exec(tag);
    if (!m) throw new Error(`malformed tag <${tag.slice(0, 60)}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2]);
      attrs[a[1]] = a[2];
    }
    elements.push([m[1], attrs]);
    if (!m[3]) stack.push(m[1]);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('><')}>`);
  return elements;
}

describe('parseXml (the check the timeline test relies on)', () => {
  it.each([
    ['<?xml version="1.0"?><svg><g></svg></g>', /closes/],
    ['<?xml version="1.0"?><svg><rect x=1/></svg>', /malformed/],
    ['<?xml version="1.0"?><svg><text>a & b</text></svg>', /bad entity/],
    ['<?xml version="1.0"?><svg><text>a < b</text></svg>', /malformed|bare/],
    ['<?xml version="1.0"?><svg>', /unclosed/],
    ['<svg/>', /declaration/],
  ])('refuses %s', (xml, err) => {
    expect(() => parseXml(xml)).toThrow(err);
  });
});

describe('timeline of the night (timeline.svg)', () => {
  const stage = (name: string, seconds: number, ok = true) => ({ stage: name, seconds, ok });
  const input: TimelineInput = {
    title: 'Local night 2026-11-24 (on-time): 2,000 records <&> "quoted"',
    stages: [stage('servers', 1.2), stage('provision', 1.9), stage('generate', 0.2), stage('upload', 0.03), stage('orchestrate', 0.2),
      stage('process', 1.2), stage('job-events', 0.06), stage('verify', 0.09), stage('migrate', 0.06), stage('load', 0.6),
      stage('deadline', 0.01), stage('reporting', 0.55), stage('confirm', 0.01, false)],
    shards: [
      { index: 1, jobName: 'tx', status: 'SUCCEEDED', attempts: [{ exitCode: 75, startedAt: 1_000, stoppedAt: 1_400 }, { exitCode: 0, startedAt: 1_500, stoppedAt: 2_100 }] },
      { index: 0, jobName: 'tx', status: 'SUCCEEDED', attempts: [{ exitCode: 0, startedAt: 1_000, stoppedAt: 2_150 }] },
    ],
    windowHours: 4,
    deadlineHours: 5,
  };
  const svg = timelineSvg(input);
  const elements = parseXml(svg);
  const rects = (cls: string) => elements.filter(([n, a]) => n === 'rect' && a.class?.split(' ').includes(cls));

  it('is well-formed XML with an svg root, and escapes the title', () => {
    expect(elements[0][0]).toBe('svg');
    expect(elements[0][1].xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg).toContain('2,000 records &lt;&amp;&gt; &quot;quoted&quot;');
  });

  it('draws one bar per stage in the detail panel, in order, each coloured by its group', () => {
    const detail = rects('phase').filter(([, a]) => !a.class.includes('window-phase'));
    expect(detail.map(([, a]) => a['data-stage'])).toEqual(input.stages.map((x) => x.stage));
    for (const [, a] of detail) expect(a.fill).toBe(STAGE_GROUPS[a['data-stage']].color);
    const x = detail.map(([, a]) => Number(a.x));
    expect(x).toEqual([...x].sort((a, b) => a - b));
    expect(detail.find(([, a]) => a['data-stage'] === 'confirm')![1].stroke).toBe('#c0392b');
  });

  it('draws the night\'s phases (orchestrate on, no local setup, no deadline check) against the batch window', () => {
    expect(rects('window-phase').map(([, a]) => a['data-stage'])).toEqual(['orchestrate', 'process', 'job-events', 'verify', 'load', 'reporting', 'confirm']);
    const windowRect = rects('window').find(([, a]) => !a.class.includes('key'))!;
    expect(Number(windowRect[1].width)).toBeGreaterThan(0);
    expect(svg).toContain('reporting deadline 5 h');
    expect(svg).toMatch(/took 2\.7\d s: 0\.019 % of the 4-hour window/);
  });

  it('draws one bar per shard attempt, failed attempts red, shards in index order', () => {
    const shards = rects('shard');
    expect(shards.map(([, a]) => [a['data-shard'], a.fill])).toEqual([['0', '#6f9be0'], ['1', '#c0392b'], ['1', '#6f9be0']]);
  });

  it('a missing night says nothing ran in the window', () => {
    const missing = timelineSvg({ ...input, stages: [stage('servers', 1), stage('deadline', 0.1), stage('refusal', 0.2)], shards: [] });
    parseXml(missing);
    expect(missing).toContain('No nightly run in this night (missing): nothing ran in the window.');
  });

  it('writeTimeline writes <work dir>/timeline.svg whole, and the deadline comes from the schedules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeline-'));
    const file = writeTimeline(dir, input);
    expect(file).toBe(path.join(dir, 'timeline.svg'));
    expect(fs.readFileSync(file, 'utf8')).toBe(svg);
    expect(fs.readdirSync(dir)).toEqual(['timeline.svg']);
    expect(deadlineHoursOf({ nightlyBatch: 'cron(0 0 * * ? *)', dailyReporting: 'cron(0 5 * * ? *)' })).toBe(5);
    expect(deadlineHoursOf({ nightlyBatch: 'cron(30 22 * * ? *)', dailyReporting: 'cron(0 4 * * ? *)' })).toBe(5.5);
    expect(deadlineHoursOf({ nightlyBatch: 'cron(0 0 * * ? *)', dailyReporting: 'rate(1 day)' })).toBeUndefined();
  });
});

describe('summary: every line explained', () => {
  const outcome: Outcome = {
    records: { read: 20000, accepted: 19371, rejected: 546, duplicates: 83 },
    expected: { read: 20000, accepted: 19371, rejected: 546, duplicates: 83 },
    totals: { byCurrency: { EUR: { actual: '100', expected: '100' } } },
    reconciliationOk: true,
    loadedRows: 19371,
    coverage: { reportDates: ['2026-11-23'], loadedDates: ['2026-11-22', '2026-11-23'], loadedEntities: ['ENTITY-001'], accepted: { inReports: 8535, reportDateNotReported: 10677, otherDates: 159 } },
    jobs: { total: 1, succeeded: 1, statuses: { SUCCEEDED: 1 }, runCompleted: true },
    reports: { planned: 4, objects: 4, generated: 4, transactions: 8535, valid: 4, delivered: 4, confirmed: 4, failed: 0, byStatus: { CONFIRMED: 4 } },
    emails: { deliveries: 4, messages: 4 },
    alerts: { batch: 3, reporting: 0 },
    alertKinds: { batch: { RUN_STARTED: 1, JOB_SUCCEEDED: 1, RUN_COMPLETED: 1 }, reporting: {} },
    metrics: { NightlyRunCompleted: 1, ReportingInputMissing: 0 },
    night: { mode: 'on-time', reportDate: '2026-11-23', deadlineLoaded: true, deadlineAlerted: false, deadlineRunOutcome: 'SUCCEEDED', deadlineWhen: 'after-load', reportingStarted: true, executionName: 'report-2026-11-23-run-2026-11-24', executionInput: {} },
    stages: [{ stage: 'process', seconds: 1.2, ok: true }],
    shards: [],
    windowHours: 4,
    timeline: '/tmp/work/timeline.svg',
  };
  const text = renderSummary(outcome);
  const outcomeRows = text.split('\n\n').find((b) => b.trimStart().startsWith('Outcome'))!.trimStart().split('\n').slice(1).filter((l) => !l.startsWith('  note:'));

  it('every Outcome row has a label, a value and an explanation', () => {
    expect(outcomeRows.length).toBeGreaterThan(20);
    for (const row of outcomeRows) expect([row, /^ {2}\S.*?\S {2,}\S+.*? {2}\S.{8,}$/.test(row)]).toEqual([row, true]);
  });

  it('alerts on a clean night: each kind named with why it is published, marked routine', () => {
    expect(text).toMatch(/alerts published +batch 3, reporting 0 {2}1 JOB_SUCCEEDED, 1 RUN_COMPLETED, 1 RUN_STARTED: routine notices, no failure/);
    expect(alertLines(outcome)).toEqual([
      "batch-alerts: 1 JOB_SUCCEEDED: processor's notice per job, every job that succeeds (routine, not a failure)",
      'batch-alerts: 1 RUN_COMPLETED: job-events: every job terminal; the reporting loader listens for it (routine, not a failure)',
      "batch-alerts: 1 RUN_STARTED: orchestrator's run summary (jobs submitted), every night (routine, not a failure)",
    ]);
    const late = renderSummary({ ...outcome, alertKinds: { batch: { RUN_COMPLETED: 1 }, reporting: { REPORTING_INPUT_MISSING: 1 } }, alerts: { batch: 1, reporting: 1 } });
    expect(late).toMatch(/1 RUN_COMPLETED; 1 REPORTING_INPUT_MISSING: see alerts below/);
    expect(late).toContain('reporting-alerts: 1 REPORTING_INPUT_MISSING: run-deadline: the report date had no loaded run at the reporting deadline (needs attention)');
  });

  it('classifies the messages the platform publishes', () => {
    expect(alertKind(JSON.stringify({ submitted: 1, alreadyProcessed: 0, failed: 0, errors: 0 }))).toBe('RUN_STARTED');
    expect(alertKind(JSON.stringify({ status: 'SUCCEEDED', environment: 'dev', jobId: 'j' }))).toBe('JOB_SUCCEEDED');
    expect(alertKind(JSON.stringify({ status: 'FAILED', environment: 'dev', jobId: 'j', code: 'X' }))).toBe('JOB_FAILED');
    expect(alertKind(JSON.stringify({ event: 'RUN_COMPLETED', runId: 'r' }))).toBe('RUN_COMPLETED');
    expect(alertKind('Report EU TRANSACTION ENTITY-001 failed at stage generate: boom')).toBe('REPORT_FAILED');
    expect(alertKind('Reporting run report-x failed: States.Timeout')).toBe('REPORTING_RUN_FAILED');
    expect(alertKind('something else')).toBe('OTHER');
  });

  it('says why report transactions differ from accepted records, with the numbers adding up', () => {
    const note = reportTransactionsNote(outcome);
    expect(note).toContain('Of the 19,371 loaded: 8,535 in this date\'s reports (OK), 10,677 of the report date outside the reported jurisdictions/types/entities, 159 of other dates');
    expect(text).toContain(`note: ${note}`);
    expect(reportTransactionsNote({ ...outcome, reports: { ...outcome.reports, transactions: 8000 } })).toContain('(MISMATCH: reports list 8,000)');
  });

  it('prints where the timeline was written', () => {
    expect(text).toMatch(/\ntimeline: \/tmp\/work\/timeline\.svg {2}\(/);
  });
});
