/**
 * The offline checks of `npm run verify` on the production shape of the platform (adopted trail,
 * VPC-endpoint pinning; __tests__/stacks/production.test.ts has the synth's own assertions): every CIS
 * rule matches its real CloudTrail event (moto's matching engine) and the pinned bucket policies lint
 * clean (parliament). Tooling project: both run Python.
 */
import { PINNED_PROD_LIKE, platformOf } from '../../test-support/config-fixture';
import { checkEventPatterns, sampleContext } from '../../scripts/verify/event-patterns';
import { lintPolicies } from '../../scripts/verify/iam-lint';
import type { Stacks } from '../../scripts/verify/stacks';

describe('verify on an adopted-trail (prod-like) synth', () => {
  const stacks = platformOf('dev', PINNED_PROD_LIKE).tf as unknown as Stacks;

  it('every CIS EventBridge rule filters on source and matches its real CloudTrail event, never the near-misses', () => {
    const result = checkEventPatterns(stacks, sampleContext(stacks, 4, 'us-east-1'));
    expect(result.findings).toEqual([]);
    expect(result.patterns).toBeGreaterThanOrEqual(15);
  });

  it('the pinned bucket policies lint clean (aws:ViaAWSService suppressed with its reason)', () => {
    const lint = lintPolicies(stacks);
    expect(lint.findings).toEqual([]);
    expect(lint.suppressed.some((s) => /aws:ViaAWSService/.test(JSON.stringify(s.detail)) && /global condition key/.test(s.reason))).toBe(true);
  });
});
