/**
 * Deploy-time inputs are Terraform variables (stacks/variables.ts): declared with type, description,
 * validation and the config value as default, wired where they are used, and their validation rejects
 * what config rejects. The validation is evaluated twice: by a small evaluator of the two condition
 * forms we write, and by Terraform itself (`terraform console` on the variable block, offline, no
 * providers needed) when terraform is installed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resources, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { VARIABLE_NAMES } from '../../stacks/variables';
import { imageReference } from '../../stacks/compute/job-definition';

type R = Record<string, unknown>;
interface TfVariable { type: string; default: string; description: string; nullable: boolean; validation: { condition: string; error_message: string }[] }

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const cfg = testConfig({ notificationEmail: 'batch-ops@bank.test', securityEmail: 'soc@bank.test' });
const { tf } = synthPlatform(cfg);
const variablesOf = (stack: TfJson) => (stack.variable ?? {}) as Record<string, TfVariable>;

const EXPECTED: [string, string, string][] = [
  [VARIABLE_NAMES.processorImageTag, 'compute', cfg.batch.imageTag],
  [VARIABLE_NAMES.securityEmail, 'security-baseline', cfg.securityEmail],
  [VARIABLE_NAMES.notificationEmail, 'data', cfg.notificationEmail],
];

/** Evaluates a validation condition the way Terraform would, for the forms stacks/variables.ts writes. */
function evaluate(condition: string, name: string, value: string): boolean {
  const m = /^\$\{(.*)\}$/s.exec(condition);
  if (!m) throw new Error(`not an expression: ${condition}`);
  const lit = '("(?:[^"\\\\]|\\\\.)*")';
  return m[1].split(' && ').every((term) => {
    const ne = new RegExp(`^var\\.(\\w+) != ${lit}$`).exec(term);
    if (ne) {
      if (ne[1] !== name) throw new Error(`condition refers to var.${ne[1]}, not var.${name}`);
      return value !== JSON.parse(ne[2]);
    }
    const re = new RegExp(`^can\\(regex\\(${lit}, var\\.(\\w+)\\)\\)$`).exec(term);
    if (re) {
      if (re[2] !== name) throw new Error(`condition refers to var.${re[2]}, not var.${name}`);
      return new RegExp(JSON.parse(re[1])).test(value);
    }
    throw new Error(`unknown condition term: ${term}`);
  });
}

const terraformInstalled = spawnSync('sh', ['-c', 'command -v terraform']).status === 0;
const quietEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  delete env.TF_CLI_CONFIG_FILE;
  return env;
};

/** Terraform's own answer: `terraform console` with the value; validation failures print "Invalid value for variable". */
function terraformConsole(doc: R, expression: string, vars: Record<string, string>): { valid: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfvar-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(doc));
    const args = ['console', ...Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`])];
    const r = spawnSync('terraform', args, { cwd: dir, input: `${expression}\n`, encoding: 'utf8', env: quietEnv(), timeout: 60_000 });
    const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    if (/Invalid value for variable/.test(output)) return { valid: false, output };
    if (r.status !== 0 || /Error:/.test(output)) throw new Error(`terraform console failed: ${output}`);
    return { valid: true, output: output.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether config accepts the value in the field the variable defaults from. */
function configAccepts(name: string, value: string): boolean {
  const override = name === VARIABLE_NAMES.processorImageTag ? { batch: { imageTag: value } }
    : name === VARIABLE_NAMES.securityEmail ? { securityEmail: value } : { notificationEmail: value };
  try {
    testConfig(override);
    return true;
  } catch {
    return false;
  }
}

const CANDIDATES: Record<string, string[]> = {
  [VARIABLE_NAMES.processorImageTag]: ['1.4.0', 'v2_rc.1', DIGEST, 'latest', 'sha256:abc', `sha256:${'AB'.repeat(32)}`, '', ':1.0', '-x', 'a'.repeat(128), 'a'.repeat(129), 'Latest'],
  [VARIABLE_NAMES.securityEmail]: ['soc@bank.test', 'first.last+tag@mail.bank.co.uk', 'not-an-address', 'a@b', '', 'a b@c.de'],
  [VARIABLE_NAMES.notificationEmail]: ['ops@bank.test', 'ops@bank', '@bank.test'],
};

describe.each(EXPECTED)('variable %s (%s stack)', (name, stackId, configured) => {
  const v = variablesOf(tf[stackId])[name];

  it('is declared once, in its stack only, as a non-null string with a description and the config value as default', () => {
    for (const [id, stack] of Object.entries(tf)) expect(Object.keys(variablesOf(stack)).includes(name)).toBe(id === stackId);
    expect(v).toMatchObject({ type: 'string', default: configured, nullable: false });
    expect(v.description.length).toBeGreaterThan(40);
    expect(v.validation).toHaveLength(1);
    expect(v.validation[0].error_message).toMatch(new RegExp(`^${name} must `));
  });

  it('validation agrees with config on every candidate value (evaluated here, and by terraform console where installed)', () => {
    for (const value of CANDIDATES[name]) {
      const expected = [value, configAccepts(name, value)];
      expect([value, evaluate(v.validation[0].condition, name, value)]).toEqual(expected);
      if (terraformInstalled) expect([value, terraformConsole({ variable: { [name]: v } }, `var.${name}`, { [name]: value }).valid]).toEqual(expected);
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

  it('the image reference is repo:tag for a tag and repo@sha256:... for a digest, and latest is refused (terraform console where installed)', () => {
    // Without terraform: the JS side of the same choice (stacks/compute/job-definition.ts imageReference).
    expect(imageReference('r', DIGEST)).toBe(`r@${DIGEST}`);
    expect(imageReference('r', '1.4.0')).toBe('r:1.4.0');
    if (!terraformInstalled) return;
    const image = locals.processor_image.replace('aws_ecr_repository.processor-repo.repository_url', 'local.repo');
    const doc = {
      variable: { [VARIABLE_NAMES.processorImageTag]: variablesOf(tf.compute)[VARIABLE_NAMES.processorImageTag] },
      locals: { repo: '123456789012.dkr.ecr.us-east-1.amazonaws.com/finbatch-dev-transaction-processor', image },
    };
    const repo = doc.locals.repo;
    expect(terraformConsole(doc, 'local.image', { processor_image_tag: '1.4.0' }).output).toBe(JSON.stringify(`${repo}:1.4.0`));
    expect(terraformConsole(doc, 'local.image', { processor_image_tag: DIGEST }).output).toBe(JSON.stringify(`${repo}@${DIGEST}`));
    expect(terraformConsole(doc, 'local.image', {}).output).toBe(JSON.stringify(`${repo}:${cfg.batch.imageTag}`));
    expect(terraformConsole(doc, 'local.image', { processor_image_tag: 'latest' }).valid).toBe(false);
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
