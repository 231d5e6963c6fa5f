/**
 * Every aws_cloudwatch_event_rule event_pattern, with references resolved, is tested against real
 * sample events of each source it names: the family's matching event must match and every near-miss
 * must not. A source without a sample family is a finding (an untested pattern).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { INPUT_PREFIX } from '../../contracts/buckets';
import { Finding, Stacks } from './stacks';
import { Placeholders } from './placeholders';
import { cisFamilies, SampleContext, SampleFamily, sampleFamilies } from './sample-events';

const ROOT = path.resolve(__dirname, '..', '..');

export interface MatchCase { pattern: string; event: object }

/** Runs cases through moto's EventBridge matching engine (scripts/verify/event_match.py). */
export function matchEvents(cases: MatchCase[]): (boolean | string)[] {
  if (!cases.length) return [];
  const res = spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), [path.join(__dirname, 'event_match.py')], {
    input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`event_match.py failed (exit ${res.status}): ${res.stderr || res.error}`);
  return JSON.parse(res.stdout);
}

/** Contract values for the samples, read from the synthesized stacks. */
export function sampleContext(stacks: Stacks, guardDutyMinSeverity: number, region = 'eu-west-1'): SampleContext {
  const ph = new Placeholders(stacks, region);
  const find = (stack: string, type: string, pred: (name: string) => boolean = () => true) =>
    Object.keys(stacks[stack]?.resource?.[type] ?? {}).find(pred);
  const input = find('data', 'aws_s3_bucket', (n) => /^input/.test(n));
  const queue = find('compute', 'aws_batch_job_queue');
  const ses = find('reporting', 'aws_sesv2_configuration_set');
  return {
    region,
    inputPrefix: INPUT_PREFIX,
    guardDutyMinSeverity,
    inputBucket: input && ph.resolve('data', `\${aws_s3_bucket.${input}.bucket}`),
    jobQueueArn: queue && ph.resolve('compute', `\${aws_batch_job_queue.${queue}.arn}`),
    sesConfigurationSet: ses && ph.resolve('reporting', `\${aws_sesv2_configuration_set.${ses}.configuration_set_name}`),
  };
}

export function checkEventPatterns(stacks: Stacks, ctx: SampleContext): { findings: Finding[]; patterns: number; events: number } {
  const findings: Finding[] = [];
  const families = sampleFamilies(ctx);
  const cis = cisFamilies(ctx);
  const ph = new Placeholders(stacks, ctx.region);
  const cases: MatchCase[] = [];
  const expectations: { stack: string; address: string; expect: boolean; what: string }[] = [];
  let patterns = 0;
  for (const [stack, tf] of Object.entries(stacks)) {
    for (const [name, rule] of Object.entries(tf.resource?.aws_cloudwatch_event_rule ?? {})) {
      if (typeof rule.event_pattern !== 'string') continue;
      patterns++;
      const address = `aws_cloudwatch_event_rule.${name}`;
      const pattern = ph.resolve(stack, rule.event_pattern);
      let sources: unknown;
      try {
        sources = (JSON.parse(pattern) as { source?: unknown }).source;
      } catch (e) {
        findings.push({ check: 'event-patterns', stack, address, message: `event_pattern is not JSON: ${(e as Error).message}` });
        continue;
      }
      if (!Array.isArray(sources) || !sources.length) {
        findings.push({ check: 'event-patterns', stack, address, message: 'event_pattern must filter on "source" (an array)' });
        continue;
      }
      // A CIS rule (`<prefix>cis-<Check>`) is tested with that check's own CloudTrail events; any
      // other rule with the sample family of each source it names.
      const check = /-cis-([A-Za-z0-9]+)$/.exec(typeof rule.name === 'string' ? ph.resolve(stack, rule.name) : '')?.[1];
      const chosen: [string, SampleFamily | undefined][] = check
        ? [[`CIS check ${check}`, cis[check]]]
        : sources.map((source) => [`source ${typeof source === 'string' ? source : JSON.stringify(source)}`, typeof source === 'string' ? families[source] : undefined]);
      for (const [what, family] of chosen) {
        if (!family) {
          findings.push({ check: 'event-patterns', stack, address, message: `no sample event for ${what}: add one to scripts/verify/sample-events.ts` });
          continue;
        }
        if (!family.match) {
          findings.push({ check: 'event-patterns', stack, address, message: `cannot build the ${family.source} sample: ${family.missing}` });
          continue;
        }
        cases.push({ pattern, event: family.match.event });
        expectations.push({ stack, address, expect: true, what: family.match.name });
        for (const miss of family.nearMisses) {
          cases.push({ pattern, event: miss.event });
          expectations.push({ stack, address, expect: false, what: miss.name });
        }
      }
    }
  }
  const results = matchEvents(cases);
  results.forEach((r, i) => {
    const e = expectations[i];
    if (typeof r === 'string') findings.push({ check: 'event-patterns', stack: e.stack, address: e.address, message: `pattern rejected by EventBridge rules: ${r}` });
    else if (r !== e.expect) {
      findings.push({ check: 'event-patterns', stack: e.stack, address: e.address,
        message: e.expect ? `does not match the real event "${e.what}"` : `matches the near-miss "${e.what}", which it must not` });
    }
  });
  return { findings, patterns, events: cases.length };
}
