/** Event patterns against real sample events (moto's matching engine) and schedule firing times. */
import { checkEventPatterns, matchEvents, sampleContext } from '../../scripts/verify/event-patterns';
import { checkSchedules, expectedSchedules, parseSchedule, REFERENCE_TIME } from '../../scripts/verify/schedules';
import { goodStacks, mutate } from './fixtures';

const ctx = (stacks = goodStacks()) => sampleContext(stacks, 4);
const eventFindings = (stacks = goodStacks()) => checkEventPatterns(stacks, ctx(stacks)).findings.map((f) => `${f.stack}: ${f.address}: ${f.message}`);
const setPattern = (stack: 'compute' | 'security-baseline', rule: string, pattern: object) => mutate(goodStacks(), (s) => {
  s[stack].resource!.aws_cloudwatch_event_rule[rule].event_pattern = JSON.stringify(pattern);
});

describe('event patterns', () => {
  test('sample context follows the contracts (input bucket, job queue ARN)', () => {
    expect(ctx()).toMatchObject({ inputBucket: 'fbp-dev-input-123456789012', inputPrefix: 'transactions/', jobQueueArn: 'arn:aws:batch:eu-west-1:123456789012:job-queue/fbp-dev-transactions' });
  });

  test('the good rules match their real events and reject every near-miss', () => {
    const r = checkEventPatterns(goodStacks(), ctx());
    expect(r.findings).toEqual([]);
    expect(r.patterns).toBe(3);
    expect(r.events).toBe(7);
  });

  test('a GuardDuty rule without the severity filter matches the near-miss', () => {
    expect(eventFindings(setPattern('security-baseline', 'guardduty_findings', { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] })))
      .toEqual(['security-baseline: aws_cloudwatch_event_rule.guardduty_findings: matches the near-miss "finding below the configured minimum severity (3.9)", which it must not']);
  });

  test('a detail-type typo never matches the real event', () => {
    expect(eventFindings(setPattern('security-baseline', 'guardduty_findings', { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Findings'] })))
      .toEqual(['security-baseline: aws_cloudwatch_event_rule.guardduty_findings: does not match the real event "HIGH finding (severity 8.0)"']);
  });

  test('an S3 rule without the input prefix matches objects outside transactions/', () => {
    const m = eventFindings(setPattern('compute', 'input_created', { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['fbp-dev-input-123456789012'] } } }));
    expect(m).toEqual(['compute: aws_cloudwatch_event_rule.input_created: matches the near-miss "object outside the input prefix", which it must not']);
  });

  test('a Batch rule without the job-queue filter matches other queues', () => {
    const m = eventFindings(setPattern('compute', 'batch_state', { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'] }));
    expect(m).toEqual(['compute: aws_cloudwatch_event_rule.batch_state: matches the near-miss "job FAILED in another job queue", which it must not']);
  });

  test('a source without sample events, and an invalid pattern, are findings', () => {
    expect(eventFindings(setPattern('compute', 'batch_state', { source: ['aws.ecs'] })).join('\n')).toMatch(/no sample event for source aws\.ecs/);
    expect(eventFindings(setPattern('compute', 'batch_state', { source: ['aws.batch'], detail: { status: 'FAILED' } })).join('\n')).toMatch(/pattern rejected by EventBridge rules/);
  });

  test('the matching engine implements prefix, numeric and anything-but', () => {
    const ev = { source: 'aws.s3', detail: { object: { key: 'transactions/a.csv', size: 10 } } };
    expect(matchEvents([
      { pattern: JSON.stringify({ detail: { object: { key: [{ prefix: 'transactions/' }] } } }), event: ev },
      { pattern: JSON.stringify({ detail: { object: { size: [{ numeric: ['>', 10] }] } } }), event: ev },
      { pattern: JSON.stringify({ source: [{ 'anything-but': ['aws.s3'] }] }), event: ev },
    ])).toEqual([true, false, false]);
  });
});

describe('schedules', () => {
  const iso = (expr: string) => parseSchedule(expr).next(REFERENCE_TIME, 3).map((d) => d.toISOString());

  test('nightly 00:00 UTC and reporting 01:00 UTC', () => {
    expect(iso('cron(0 0 * * ? *)')).toEqual(['2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z', '2026-11-26T00:00:00.000Z']);
    expect(iso('cron(0 1 * * ? *)')).toEqual(['2026-11-24T01:00:00.000Z', '2026-11-25T01:00:00.000Z', '2026-11-26T01:00:00.000Z']);
  });

  test('weekdays, steps, ranges and rates', () => {
    // 2026-11-23 is a Monday; MON-FRI at 06:30 -> Tue, Wed, Thu
    expect(iso('cron(30 6 ? * MON-FRI *)')).toEqual(['2026-11-24T06:30:00.000Z', '2026-11-25T06:30:00.000Z', '2026-11-26T06:30:00.000Z']);
    expect(iso('cron(0/20 13 * * ? *)')).toEqual(['2026-11-23T13:00:00.000Z', '2026-11-23T13:20:00.000Z', '2026-11-23T13:40:00.000Z']);
    expect(iso('rate(6 hours)')).toEqual(['2026-11-23T18:00:00.000Z', '2026-11-24T00:00:00.000Z', '2026-11-24T06:00:00.000Z']);
  });

  test.each([
    ['cron(0 0 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 0 * * ?)', /needs 6 fields/],
    ['cron(0 24 * * ? *)', /out of range 0-23/],
    ['rate(1 hours)', /use "hour"/],
    ['every night', /neither cron/],
  ])('%s is rejected', (expr, message) => {
    expect(() => parseSchedule(expr)).toThrow(message);
  });

  const configured = expectedSchedules({ schedules: { nightlyBatch: 'cron(0 0 * * ? *)', dailyReporting: 'cron(0 5 * * ? *)' } });

  test('the fixture schedules pass; a nightly run at 02:00 or a broken expression fails', () => {
    expect(checkSchedules(goodStacks(), configured, REFERENCE_TIME).findings).toEqual([]);
    const late = mutate(goodStacks(), (s) => { s.compute.resource!.aws_cloudwatch_event_rule.nightly.schedule_expression = 'cron(0 2 * * ? *)'; });
    expect(checkSchedules(late, configured, REFERENCE_TIME).findings.map((f) => f.message)).toEqual([
      'no schedule fires the nightly batch run as configured (cron(0 0 * * ? *): 2026-11-24T00:00, 2026-11-25T00:00, 2026-11-26T00:00 UTC)']);
    const broken = mutate(goodStacks(), (s) => { s.compute.resource!.aws_cloudwatch_event_rule.reporting_deadline.schedule_expression = 'cron(0 5 * * *)'; });
    expect(checkSchedules(broken, configured, REFERENCE_TIME).findings.map((f) => f.message)).toEqual([expect.stringMatching(/needs 6 fields/),
      'no schedule fires the reporting deadline check as configured (cron(0 5 * * ? *): 2026-11-24T05:00, 2026-11-25T05:00, 2026-11-26T05:00 UTC)']);
  });

  test('the reporting deadline is checked in the compute stack (which owns run-deadline), not in reporting', () => {
    // The old reporting-stack schedule at the same time does not satisfy it: the reporting workflow has no schedule.
    const inReporting = mutate(goodStacks(), (s) => {
      s.reporting.resource!.aws_cloudwatch_event_rule = { daily: s.compute.resource!.aws_cloudwatch_event_rule.reporting_deadline };
      delete s.compute.resource!.aws_cloudwatch_event_rule.reporting_deadline;
    });
    expect(checkSchedules(inReporting, configured, REFERENCE_TIME).findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/^no schedule fires the reporting deadline check as configured/)]);
  });

  test('the expected times come from config: the schedule docs/operations.md recommends passes when configured', () => {
    // A reporting deadline at 04:30 (after a 4-hour window) is fine once config says so, and only then.
    const moved = mutate(goodStacks(), (s) => { s.compute.resource!.aws_cloudwatch_event_rule.reporting_deadline.schedule_expression = 'cron(30 4 * * ? *)'; });
    const cfg = { schedules: { nightlyBatch: 'cron(0 0 * * ? *)', dailyReporting: 'cron(30 4 * * ? *)' } };
    expect(checkSchedules(moved, expectedSchedules(cfg), REFERENCE_TIME).findings).toEqual([]);
    expect(checkSchedules(moved, configured, REFERENCE_TIME).findings.map((f) => f.message)).toEqual([expect.stringMatching(/reporting deadline check as configured \(cron\(0 5/)]);
  });
});
