/**
 * The deploy-time Terraform variables (stacks/variables.ts) as the tests see them: which stack declares
 * each, candidate values, config's verdict on a value, a small evaluator of the two condition forms the
 * stacks write, and Terraform's own verdict (`terraform console`, offline, no providers needed).
 * __tests__/stacks/variables.test.ts uses the evaluator (unit); __tests__/stacks/external-tools.test.ts
 * asks Terraform (tooling).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VARIABLE_NAMES } from '../stacks/variables';
import { PlatformConfig } from '../stacks/config';
import { testConfig, TfJson } from './config-fixture';

export interface TfVariable { type: string; default: string; description: string; nullable: boolean; validation: { condition: string; error_message: string }[] }

export const DIGEST = `sha256:${'ab'.repeat(32)}`;
/** Config overrides that give the two alert e-mail variables distinct, recognisable defaults. */
export const VARIABLE_OVERRIDES = { notificationEmail: 'batch-ops@bank.test', securityEmail: 'soc@bank.test' };

export const variablesOf = (stack: TfJson) => (stack.variable ?? {}) as Record<string, TfVariable>;

/** [variable, stack that declares it, its config value] */
export function expectedVariables(cfg: PlatformConfig): [string, string, string][] {
  return [
    [VARIABLE_NAMES.processorImageTag, 'compute', cfg.batch.imageTag],
    [VARIABLE_NAMES.securityEmail, 'security-baseline', cfg.securityEmail],
    [VARIABLE_NAMES.notificationEmail, 'data', cfg.notificationEmail],
  ];
}

export const CANDIDATES: Record<string, string[]> = {
  [VARIABLE_NAMES.processorImageTag]: ['1.4.0', 'v2_rc.1', DIGEST, 'latest', 'sha256:abc', `sha256:${'AB'.repeat(32)}`, '', ':1.0', '-x', 'a'.repeat(128), 'a'.repeat(129), 'Latest'],
  [VARIABLE_NAMES.securityEmail]: ['soc@bank.test', 'first.last+tag@mail.bank.co.uk', 'not-an-address', 'a@b', '', 'a b@c.de'],
  [VARIABLE_NAMES.notificationEmail]: ['ops@bank.test', 'ops@bank', '@bank.test'],
};

/** Whether config accepts the value in the field the variable defaults from. */
export function configAccepts(name: string, value: string): boolean {
  const override = name === VARIABLE_NAMES.processorImageTag ? { batch: { imageTag: value } }
    : name === VARIABLE_NAMES.securityEmail ? { securityEmail: value } : { notificationEmail: value };
  try {
    testConfig(override);
    return true;
  } catch {
    return false;
  }
}

/** Evaluates a validation condition the way Terraform would, for the forms stacks/variables.ts writes. */
export function evaluate(condition: string, name: string, value: string): boolean {
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

export const terraformInstalled = () => spawnSync('sh', ['-c', 'command -v terraform']).status === 0;

const quietEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  delete env.TF_CLI_CONFIG_FILE;
  return env;
};

/** Terraform's own answer: `terraform console` with the value; validation failures print "Invalid value for variable". */
export function terraformConsole(doc: Record<string, unknown>, expression: string, vars: Record<string, string>): { valid: boolean; output: string } {
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
