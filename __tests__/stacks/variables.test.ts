/**
 * Deploy-time inputs are Terraform variables (stacks/variables.ts): declared with type, description,
 * validation and the config value as default, wired where they are used, and their validation rejects
 * what config rejects (evaluated here by a small evaluator of the two condition forms we write;
 * __tests__/stacks/external-tools.test.ts asks `terraform console` the same questions).
 */
import * as fs from 'fs';
import * as path from 'path';
import { platformOf, resources, testConfig } from '../../test-support/config-fixture';
import { CANDIDATES, configAccepts, DIGEST, evaluate, expectedVariables, VARIABLE_OVERRIDES, variablesOf } from '../../test-support/terraform-variables';
import { imageReference } from '../../stacks/compute/job-definition';
import { VARIABLE_NAMES } from '../../stacks/variables';

const cfg = testConfig(VARIABLE_OVERRIDES);
const { tf } = platformOf('dev', VARIABLE_OVERRIDES);
const EXPECTED = expectedVariables(cfg);

describe.each(EXPECTED)('variable %s (%s stack)', (name, stackId, configured) => {
  const v = variablesOf(tf[stackId])[name];

  it('is declared once, in its stack only, as a non-null string with a description and the config value as default', () => {
    for (const [id, stack] of Object.entries(tf)) expect(Object.keys(variablesOf(stack)).includes(name)).toBe(id === stackId);
    expect(v).toMatchObject({ type: 'string', default: configured, nullable: false });
    expect(v.description.length).toBeGreaterThan(40);
    expect(v.validation).toHaveLength(1);
    expect(v.validation[0].error_message).toMatch(new RegExp(`^${name} must `));
  });

  it('validation agrees with config on every candidate value', () => {
    for (const value of CANDIDATES[name]) {
      expect([value, evaluate(v.validation[0].condition, name, value)]).toEqual([value, configAccepts(name, value)]);
    }
    expect(evaluate(v.validation[0].condition, name, configured)).toBe(true);
  });
});

describe('wiring', () => {
  const locals = tf.compute.locals as Record<string, string>;
  it('the processor job definition runs the image named by var.processor_image_tag (no literal tag left)', () => {
    const defs = Object.values(resources(tf.compute, 'aws_batch_job_definition'));
    expect(defs).toHaveLength(1);
    const props = JSON.parse(String(defs[0].container_properties));
    expect(props.image).toBe('${local.processor_image}');
    expect(locals.processor_image).toBe('${aws_ecr_repository.processor-repo.repository_url}${startswith(var.processor_image_tag, "sha256:") ? "@" : ":"}${var.processor_image_tag}');
    expect(JSON.stringify(tf.compute)).not.toContain(`:${cfg.batch.imageTag}`);
  });

  it('the image reference is repo:tag for a tag and repo@sha256:... for a digest', () => {
    // The JS side of the choice the local expresses (stacks/compute/job-definition.ts imageReference);
    // external-tools.test.ts has Terraform render the local itself.
    expect(imageReference('r', DIGEST)).toBe(`r@${DIGEST}`);
    expect(imageReference('r', '1.4.0')).toBe('r:1.4.0');
  });

  it.each([
    ['security-baseline', VARIABLE_NAMES.securityEmail, 1],
    ['data', VARIABLE_NAMES.notificationEmail, 2],
  ])('%s: every alert topic e-mail subscription subscribes var.%s', (stackId, name, count) => {
    const subs = Object.values(resources(tf[stackId], 'aws_sns_topic_subscription')).filter((s) => s.protocol === 'email');
    expect(subs.map((s) => s.endpoint)).toEqual(Array(count).fill(`\${var.${name}}`));
  });

  it('no configured alert address is left as a literal in any stack', () => {
    for (const stack of Object.values(tf)) {
      const text = JSON.stringify({ ...stack, variable: undefined });
      expect(text).not.toContain(cfg.securityEmail);
      expect(text).not.toContain(cfg.notificationEmail);
    }
  });
});

describe('docs/operations.md', () => {
  it('lists every declared variable, in the workspace of the stack that declares it, and no other', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| `<prefix>-([a-z-]+)` \|/gm)].map((m) => [m[1], m[2]]);
    const declared = Object.entries(tf).flatMap(([id, stack]) => Object.keys(variablesOf(stack)).map((name) => [name, id]));
    expect(rows.sort()).toEqual(declared.sort());
  });
});
