/**
 * Test fixtures: the dev config with overrides, and a synthesized platform (each stack synthesized
 * once; parse the JSON or use cdktf's jest matchers on the string).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { ConfigError, parseConfig, PlatformConfig } from '../stacks/config';
import { buildPlatform, Platform, STACK_IDS } from '../main';

export const ROOT = path.resolve(__dirname, '..');

export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** config/dev.json as a raw object (not validated), for tests that break it on purpose. */
export function rawConfig(env = 'dev'): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'config', `${env}.json`), 'utf8'));
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (Array.isArray(over) || over === null || typeof over !== 'object' || typeof base !== 'object' || base === null) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out;
}

/** The problem lines parseConfig reports for `raw` (empty when it loads); any other error is rethrown. */
export function configProblemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, 'test');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

/** The problem lines of config/<env>.json after `mutate` changed its raw object. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function configProblems(mutate: (c: Record<string, any>) => void, env = 'dev'): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const raw = rawConfig(env) as Record<string, any>;
  mutate(raw);
  return configProblemsOf(raw);
}

/** A validated config: config/<env>.json deep-merged with overrides (arrays replace). */
export function testConfig(overrides: DeepPartial<PlatformConfig> | Record<string, unknown> = {}, env = 'dev'): PlatformConfig {
  return parseConfig(merge(rawConfig(env), overrides), `test:${env}`);
}

export interface SynthesizedPlatform {
  platform: Platform;
  /** Synthesized Terraform JSON string per stack id (use with cdktf matchers). */
  json: Record<string, string>;
  /** Parsed Terraform JSON per stack id. */
  tf: Record<string, TfJson>;
  outdir: string;
}

export interface TfJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; description?: string }>;
  terraform?: Record<string, unknown>;
  provider?: Record<string, unknown[]>;
  [k: string]: unknown;
}

export function synthPlatform(cfg: PlatformConfig = testConfig()): SynthesizedPlatform {
  // A real app.synth() into a temp dir: cross-stack references (outputs + remote state) only exist
  // after the whole app is prepared, which Testing.synth(stack) does not do.
  const app = Testing.app();
  const platform = buildPlatform(app, cfg);
  app.synth();
  const json: Record<string, string> = {};
  const tf: Record<string, TfJson> = {};
  for (const id of STACK_IDS) {
    json[id] = fs.readFileSync(path.join(app.outdir, 'stacks', id, 'cdk.tf.json'), 'utf8');
    tf[id] = JSON.parse(json[id]);
  }
  return { platform, json, tf, outdir: app.outdir };
}

/** All resources of a type in a stack, keyed by logical id. */
export function resources(tf: TfJson, type: string): Record<string, Record<string, unknown>> {
  return tf.resource?.[type] ?? {};
}

/** The single resource of a type whose properties match `pred`; throws if none or several. */
export function findResource(tf: TfJson, type: string, pred: (r: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const hits = Object.values(resources(tf, type)).filter(pred);
  if (hits.length !== 1) throw new Error(`expected exactly one ${type} matching, found ${hits.length}`);
  return hits[0];
}

/** Overrides that move the dev config to AWS GovCloud (US-West): region, pinned zones, a GovCloud producer role. */
export const GOVCLOUD_OVERRIDES = {
  region: 'us-gov-west-1',
  network: { mode: 'create', cidr: '10.0.0.0/16', azCount: 3, zoneNames: ['us-gov-west-1a', 'us-gov-west-1b', 'us-gov-west-1c'] },
  security: { producerRoleArns: ['arn:aws-us-gov:iam::111111111111:role/upstream/example-producer'] },
  // Principals must be in the deployment's partition (config load refuses others).
  reporting: { recipients: { US: [{ email: 'sec-reports@example.gov', mode: 's3-access', principalArn: 'arn:aws-us-gov:iam::444444444444:role/REPLACE-ME-sec-report-reader' }] } },
} as const;

/** A validated GovCloud config (dev with GOVCLOUD_OVERRIDES). */
export function govCloudConfig(overrides: DeepPartial<PlatformConfig> | Record<string, unknown> = {}): PlatformConfig {
  return parseConfig(merge(merge(rawConfig('dev'), GOVCLOUD_OVERRIDES), overrides), 'test:govcloud');
}
