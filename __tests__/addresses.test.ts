/**
 * Guard against replacing deployed resources: every committed address (addresses/<env>.txt) must still be
 * synthesized, or be the source of a `moved` block; every synthesized address must be listed.
 */
import { ADDRESS_ENVS, addressesOf, compareAddresses, readCommitted, StackJson, SynthAddresses } from '../scripts/addresses';
import { platformOf } from '../test-support/config-fixture';

describe('compareAddresses', () => {
  const synth = (addresses: string[], moved: [string, string][] = []): SynthAddresses => ({ addresses, moved: new Map(moved) });

  it('flags a committed address that disappeared without a moved block', () => {
    const diff = compareAddresses(['data aws_s3_bucket.input', 'data aws_kms_key.k'], synth(['data aws_kms_key.k', 'data aws_s3_bucket.input2']));
    expect(diff.replaced).toEqual(['data aws_s3_bucket.input']);
    expect(diff.added).toEqual(['data aws_s3_bucket.input2']);
  });

  it('accepts a rename that carries a moved block in the same stack', () => {
    const diff = compareAddresses(['data aws_s3_bucket.input'], synth(['data aws_s3_bucket.inbox'], [['data aws_s3_bucket.input', 'aws_s3_bucket.inbox']]));
    expect(diff).toEqual({ replaced: [], moved: ['data aws_s3_bucket.input -> aws_s3_bucket.inbox'], added: [] });
  });

  it('does not accept a moved block whose target is not synthesized', () => {
    const diff = compareAddresses(['data aws_s3_bucket.input'], synth([], [['data aws_s3_bucket.input', 'aws_s3_bucket.gone']]));
    expect(diff.replaced).toEqual(['data aws_s3_bucket.input']);
  });
});

describe.each(ADDRESS_ENVS)('%s synth keeps every committed resource address', (env) => {
  const committed = readCommitted(env);
  // The run's cached synth of config/<env>.json (npm run addresses synthesizes its own).
  const diff = compareAddresses(committed, addressesOf(platformOf(env).tf as Record<string, StackJson>));

  it('has a committed list', () => {
    expect(committed.length).toBeGreaterThan(100);
  });

  it('replaces nothing (a rename needs a moved block)', () => {
    expect(diff.replaced).toEqual([]);
  });

  it('lists every synthesized address (npm run addresses -- --update after adding resources)', () => {
    expect(diff.added).toEqual([]);
  });
});
