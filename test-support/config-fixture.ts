/**
 * Test fixtures: the dev config with overrides, and the synthesized platform (each config variant
 * synthesized once per test run; parse the JSON or use cdktf's jest matchers on the string).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { ConfigError, parseConfig, PlatformConfig } from '../stacks/config';
import type { Platform } from '../main';

/** main.ts (every stack and provider class) is loaded on the first synth only: config-only suites skip it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const main = (): typeof import('../main') => require('../main');

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

/** JSON with object keys sorted: the same config always gives the same cache key. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]]))
    : x));
}

/** Synthesized stacks of this test file's process, by variant key (the JSON text per stack id). */
const synthesized = new Map<string, { json: Record<string, string>; outdir: string; platform?: Platform }>();

/**
 * Synthesizes the whole platform for `cfg`, once per config variant per test run: the first suite to
 * ask synthesizes into the run's cache directory (FINBATCH_SYNTH_CACHE, made by
 * test-support/synth-cache-setup.js and shared by the jest workers); later suites, in any worker, read
 * the JSON from there. A variant is the validated config itself (env + overrides), keyed by its
 * canonical JSON. `tf` is parsed afresh per call (a test may change its copy); `platform` (the
 * construct tree, for resolving tokens) is built on first use when the JSON came from the cache.
 */
export function synthPlatform(cfg: PlatformConfig = testConfig()): SynthesizedPlatform {
  const key = crypto.createHash('sha256').update(canonical(cfg)).digest('hex').slice(0, 20);
  let entry = synthesized.get(key);
  if (!entry) {
    const cacheDir = process.env.FINBATCH_SYNTH_CACHE;
    const finalDir = cacheDir ? path.join(cacheDir, key) : undefined;
    if (finalDir && fs.existsSync(path.join(finalDir, '.complete'))) {
      entry = { json: readStacks(finalDir), outdir: finalDir };
    } else {
      // A real app.synth(): cross-stack references (outputs + remote state) only exist after the
      // whole app is prepared, which Testing.synth(stack) does not do.
      const outdir = finalDir ? `${finalDir}.${process.pid}.tmp` : fs.mkdtempSync(path.join(os.tmpdir(), 'finbatch-synth-'));
      const app = Testing.app({ outdir });
      const platform = main().buildPlatform(app, cfg);
      app.synth();
      entry = { json: readStacks(outdir), outdir, platform };
      if (finalDir) entry.outdir = publish(outdir, finalDir);
    }
    synthesized.set(key, entry);
  }
  const found = entry;
  const tf = Object.fromEntries(Object.entries(found.json).map(([id, text]) => [id, JSON.parse(text) as TfJson]));
  return {
    get platform() {
      found.platform ??= main().buildPlatform(Testing.app({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'finbatch-tree-')) }), cfg);
      return found.platform;
    },
    json: { ...found.json },
    tf,
    outdir: found.outdir,
  };
}

/** The synthesized platform of config/<env>.json with overrides (see synthPlatform: cached per variant). */
export function platformOf(env = 'dev', overrides: DeepPartial<PlatformConfig> | Record<string, unknown> = {}): SynthesizedPlatform {
  return synthPlatform(testConfig(overrides, env));
}

function readStacks(outdir: string): Record<string, string> {
  return Object.fromEntries(main().STACK_IDS.map((id) => [id, fs.readFileSync(path.join(outdir, 'stacks', id, 'cdk.tf.json'), 'utf8')]));
}

/** Moves a finished synth to its cache place; when another worker got there first, keeps theirs. */
function publish(tmpDir: string, finalDir: string): string {
  fs.writeFileSync(path.join(tmpDir, '.complete'), '');
  try {
    fs.renameSync(tmpDir, finalDir);
    return finalDir;
  } catch {
    if (!fs.existsSync(path.join(finalDir, '.complete'))) return tmpDir;
    fs.rmSync(tmpDir, { recursive: true, force: true });
    return finalDir;
  }
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

/** An upstream producer role that may upload from outside the VPC endpoint (PINNED_PROD_LIKE). */
export const PINNED_PRODUCER = 'arn:aws:iam::111111111111:role/upstream/example-producer';

/** Overrides that give dev the production shape: Object Lock, VPC-endpoint pinning with a producer, adopted singletons. */
export const PINNED_PROD_LIKE = {
  security: { objectLock: true, pinBucketsToVpcEndpoint: true, producerRoleArns: [PINNED_PRODUCER] },
  singletons: { cloudTrail: 'adopt', configRecorder: 'adopt', guardDuty: 'adopt', securityHub: 'adopt' },
} as const;

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
