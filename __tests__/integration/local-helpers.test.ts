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
import { emfTotals } from '../../scripts/local/summary';

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
