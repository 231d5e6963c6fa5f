/**
 * CDK Terrain (cdktn) compatibility check: copies the app to a temporary folder outside the repository,
 * switches it from `cdktf` + `@cdktf/provider-aws` to `cdktn` + `@cdktn/provider-aws`, installs with npm,
 * synthesizes every stack, and diffs each stack's cdk.tf.json against the cdktf synth of the same config
 * (taken from the same snapshot of the sources, with the repository's own node_modules).
 *
 * It downloads packages and takes minutes, so it is not part of the default CI run. Usage: --help.
 * The pure parts (import rewriting, package.json generation, JSON normalisation and diff) are exported
 * and unit-tested in __tests__/scripts/cdktn-compat.test.ts; main() only runs when executed directly.
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const DEFAULTS = {
  cdktn: '0.24.0',
  // The @cdktn/provider-aws build whose peer range accepts cdktn 0.24.0 and whose wrapped hashicorp/aws
  // version is closest to (while newer than) the 6.25.0 that @cdktf/provider-aws 21.22.1 wraps.
  provider: '25.5.0',
  envs: ['dev'],
  maxPaths: 25,
};

/** What the snapshot copies from the repository (missing optional entries are skipped). */
export const COPIED = ['main.ts', 'stacks', 'domain', 'lambda-src', 'contracts', 'config', 'cdktf.json', 'tsconfig.json'];
const REQUIRED = new Set(['main.ts', 'stacks', 'config', 'cdktf.json', 'tsconfig.json']);
/** Dev dependencies the synth needs: tsx runs main.ts, esbuild bundles the Lambdas, tsc type-checks. */
export const SYNTH_DEV_DEPENDENCIES = ['tsx', 'esbuild', 'typescript', '@types/node'];

export class UsageError extends Error {}
export class StepError extends Error {}

// ---------------------------------------------------------------------------------------------------
// Import rewriting
// ---------------------------------------------------------------------------------------------------

export interface RewriteResult {
  readonly text: string;
  /** Module specifiers rewritten, e.g. "cdktf -> cdktn". */
  readonly rewritten: string[];
  /** Other @cdktf/* packages imported, which have no mapping here. */
  readonly unmapped: string[];
}

// A module specifier in an import/export `from`, a side-effect import, import() or require().
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)(['"])((?:cdktf|@cdktf\/[a-z0-9-]+)(?:\/[^'"\s]*)?)\2/g;

/** Maps one module specifier to cdktn, or returns undefined when there is no mapping. */
export function mapSpecifier(spec: string): string | undefined {
  if (spec === 'cdktf' || spec.startsWith('cdktf/')) return `cdktn${spec.slice('cdktf'.length)}`;
  if (spec === '@cdktf/provider-aws' || spec.startsWith('@cdktf/provider-aws/')) {
    return `@cdktn/provider-aws${spec.slice('@cdktf/provider-aws'.length)}`;
  }
  return undefined;
}

/** Rewrites `cdktf` -> `cdktn` and `@cdktf/provider-aws[/lib/...]` -> `@cdktn/provider-aws[/lib/...]`. */
export function rewriteImports(source: string): RewriteResult {
  const rewritten: string[] = [];
  const unmapped: string[] = [];
  const text = source.replace(SPECIFIER, (whole, lead: string, quote: string, spec: string) => {
    const mapped = mapSpecifier(spec);
    if (mapped === undefined) {
      unmapped.push(spec);
      return whole;
    }
    rewritten.push(`${spec} -> ${mapped}`);
    return `${lead}${quote}${mapped}${quote}`;
  });
  return { text, rewritten, unmapped };
}

// ---------------------------------------------------------------------------------------------------
// package.json for the copy
// ---------------------------------------------------------------------------------------------------

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: Record<string, string>;
}
interface PackageLock {
  packages?: Record<string, { version?: string }>;
}

export interface PackagePlan {
  readonly json: Record<string, unknown>;
  /** One line per dependency decision, printed and documented. */
  readonly changes: string[];
}

/**
 * The copy's package.json: every runtime dependency of the repository pinned to the version its lock
 * file installed (the range when it is not in the lock), cdktf -> cdktn, @cdktf/provider-aws ->
 * @cdktn/provider-aws, constructs at the version cdktn needs, plus the dev tools the synth needs.
 */
export function buildPackageJson(
  pkg: PackageJson,
  lock: PackageLock | undefined,
  v: { cdktn: string; provider: string; constructs: string },
): PackagePlan {
  const changes: string[] = [];
  const locked = (name: string, range: string): string => lock?.packages?.[`node_modules/${name}`]?.version ?? range;
  const deps: Record<string, string> = {};
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (name === 'cdktf') {
      deps.cdktn = v.cdktn;
      changes.push(`cdktf ${range} -> cdktn ${v.cdktn}`);
    } else if (name === '@cdktf/provider-aws') {
      deps['@cdktn/provider-aws'] = v.provider;
      changes.push(`@cdktf/provider-aws ${range} -> @cdktn/provider-aws ${v.provider}`);
    } else if (name === 'constructs') {
      deps.constructs = v.constructs;
      changes.push(`constructs ${range} -> ${v.constructs}`);
    } else if (name.startsWith('@cdktf/')) {
      throw new UsageError(`dependency ${name} has no cdktn mapping in this script; add one before comparing`);
    } else {
      deps[name] = locked(name, range);
    }
  }
  if (!deps.cdktn) throw new UsageError('package.json has no "cdktf" dependency: nothing to migrate');
  if (!deps.constructs) {
    deps.constructs = v.constructs;
    changes.push(`constructs (none) -> ${v.constructs}`);
  }
  const devDeps: Record<string, string> = {};
  for (const name of SYNTH_DEV_DEPENDENCIES) {
    const range = pkg.devDependencies?.[name] ?? pkg.dependencies?.[name];
    if (range !== undefined && !deps[name]) devDeps[name] = locked(name, range);
  }
  const omitted = Object.keys(pkg.devDependencies ?? {}).filter((n) => !(n in devDeps));
  if (omitted.length) changes.push(`dev dependencies not needed for synth, left out: ${omitted.join(', ')}`);
  const pinned = Object.entries(pkg.dependencies ?? {}).filter(([n, r]) => deps[n] !== undefined && deps[n] !== r);
  const pinnedOther = pinned.filter(([n]) => n !== 'constructs');
  if (pinnedOther.length) {
    changes.push(`pinned to the version the repository's lock file installed: ${pinnedOther.map(([n]) => `${n}@${deps[n]}`).join(', ')}`);
  }
  const json = {
    name: `${pkg.name ?? 'app'}-cdktn-compat`,
    version: '0.0.0',
    private: true,
    description: 'Temporary copy made by scripts/cdktn-compat.ts; safe to delete',
    ...(pkg.engines ? { engines: pkg.engines } : {}),
    dependencies: sortKeys(deps),
    devDependencies: sortKeys(devDeps),
  };
  return { json, changes };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** Highest version in a list of plain x.y.z versions. */
export function highestVersion(versions: string[]): string | undefined {
  const parse = (s: string) => s.split('.').map((p) => Number(p));
  return versions
    .filter((s) => /^\d+\.\d+\.\d+$/.test(s))
    .sort((a, b) => {
      const [x, y] = [parse(a), parse(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    })
    .pop();
}

// ---------------------------------------------------------------------------------------------------
// Normalisation and diff of cdk.tf.json
// ---------------------------------------------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface NormalizationRule {
  readonly id: string;
  readonly description: string;
}

/** Every normalisation applied before diffing; printed with its counts so nothing is hidden. */
export const NORMALIZATIONS: NormalizationRule[] = [
  {
    id: 'stack-version-stamp',
    description: 'top-level "//".metadata.version (the cdktf/cdktn library version that wrote the file) -> "<tool-version>"',
  },
  {
    id: 'provider-version-constraint',
    description: 'terraform.required_providers.<name>.version (the provider build each binding pins) -> "<provider-version>"',
  },
  {
    id: 'provider-source-address',
    description: 'terraform.required_providers.<name>.source -> the fully qualified address Terraform resolves it to '
      + '("aws" and "hashicorp/aws" both mean registry.terraform.io/hashicorp/aws)',
  },
  {
    id: 'tool-name-in-asset-paths',
    description: 'the word "cdktn" -> "cdktf" inside Lambda asset paths and hashes ("filename", "source_code_hash"); counted only where it changes a value',
  },
];

export type NormalizationCounts = Record<string, number>;

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const ASSET_KEYS = new Set(['filename', 'source_code_hash']);

/**
 * Terraform's provider source address rules: "type" and "namespace/type" are short for
 * registry.terraform.io/hashicorp/type and registry.terraform.io/namespace/type; names are case-insensitive.
 */
export function canonicalProviderSource(source: string): string {
  const parts = source.toLowerCase().split('/');
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${parts[0]}`;
  if (parts.length === 2) return `registry.terraform.io/${parts[0]}/${parts[1]}`;
  return parts.join('/');
}

/** Returns a normalised deep copy and how often each rule changed something. The input is not modified. */
export function normalizeStack(input: Json): { json: Json; counts: NormalizationCounts } {
  const counts: NormalizationCounts = Object.fromEntries(NORMALIZATIONS.map((r) => [r.id, 0]));
  const json = JSON.parse(JSON.stringify(input)) as Json;
  if (!isObject(json)) return { json, counts };
  const meta = json['//'];
  if (isObject(meta) && isObject(meta.metadata) && 'version' in meta.metadata) {
    meta.metadata.version = '<tool-version>';
    counts['stack-version-stamp']++;
  }
  const tf = json.terraform;
  if (isObject(tf) && isObject(tf.required_providers)) {
    for (const p of Object.values(tf.required_providers)) {
      if (isObject(p) && 'version' in p) {
        p.version = '<provider-version>';
        counts['provider-version-constraint']++;
      }
      if (isObject(p) && typeof p.source === 'string') {
        const full = canonicalProviderSource(p.source);
        if (full !== p.source) {
          p.source = full;
          counts['provider-source-address']++;
        }
      }
    }
  }
  const walk = (node: Json): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (ASSET_KEYS.has(k) && typeof v === 'string' && /cdktn/.test(v)) {
          node[k] = v.replace(/cdktn/g, 'cdktf');
          counts['tool-name-in-asset-paths']++;
        } else walk(v);
      }
    }
  };
  walk(json.resource ?? null);
  return { json, counts };
}

export interface DiffEntry {
  readonly path: string;
  readonly kind: 'changed' | 'only-in-cdktf' | 'only-in-cdktn';
  readonly before?: Json;
  readonly after?: Json;
}

/** Renders a JSON path: identifiers dotted, anything else bracketed and quoted. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Structural diff: objects by key, arrays by index. `before` is cdktf's side, `after` cdktn's. */
export function diffJson(before: Json, after: Json, at = '$', out: DiffEntry[] = []): DiffEntry[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const p = joinPath(at, i);
      if (i >= after.length) out.push({ path: p, kind: 'only-in-cdktf', before: before[i] });
      else if (i >= before.length) out.push({ path: p, kind: 'only-in-cdktn', after: after[i] });
      else diffJson(before[i], after[i], p, out);
    }
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) {
      const p = joinPath(at, k);
      if (!(k in after)) out.push({ path: p, kind: 'only-in-cdktf', before: before[k] });
      else if (!(k in before)) out.push({ path: p, kind: 'only-in-cdktn', after: after[k] });
      else diffJson(before[k], after[k], p, out);
    }
    return out;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: at, kind: 'changed', before, after });
  return out;
}

export function truncate(value: Json | undefined, max = 100): string {
  const s = value === undefined ? '(absent)' : JSON.stringify(value);
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function formatDiff(entries: DiffEntry[], maxPaths: number, width = 100): string[] {
  const lines: string[] = [];
  for (const e of entries.slice(0, maxPaths)) {
    lines.push(`    ${e.path}  [${e.kind}]`);
    lines.push(`      cdktf: ${truncate(e.before, width)}`);
    lines.push(`      cdktn: ${truncate(e.after, width)}`);
  }
  if (entries.length > maxPaths) lines.push(`    … ${entries.length - maxPaths} more (use --max-paths or --report FILE)`);
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------------

export interface Options {
  envs: string[];
  cdktn: string;
  provider: string;
  constructs?: string;
  keep: boolean;
  typecheck: boolean;
  maxPaths: number;
  report?: string;
  freshLock: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run cdktn:compat -- [options]

Copies the app (main.ts, stacks/, domain/, lambda-src/, contracts/ if present, config/, cdktf.json,
tsconfig.json) to a temporary folder outside the repository, switches it to cdktn + @cdktn/provider-aws,
installs it with npm, synthesizes every stack and prints a normalised diff of each stack's cdk.tf.json
against the cdktf synth of the same config. Needs the npm registry; takes several minutes.

options:
  --env NAME[,NAME]     config(s) from config/ to synthesize (default dev; "all" = every config)
  --cdktn VERSION       cdktn version (default ${DEFAULTS.cdktn})
  --provider VERSION    @cdktn/provider-aws version (default ${DEFAULTS.provider})
  --constructs VERSION  constructs version (default: the highest in cdktn's peer range)
  --fresh-lock          resolve every transitive dependency afresh (default: the install starts from the
                        repository's package-lock.json, so only the switched packages change and the Lambda
                        bundles are built from the same AWS SDK and other transitive versions as the baseline)
  --no-typecheck        skip tsc --noEmit of the copied app against cdktn's types
  --max-paths N         differing paths printed per stack (default ${DEFAULTS.maxPaths})
  --report FILE         also write every difference, untruncated, as JSON
  --keep                keep the temporary folder (printed at the end)
  -h, --help            this text

exit status: 0 every stack identical after normalisation, 1 some stack differs, 2 error`;

export function parseArgs(argv: string[]): Options {
  const o: Options = { envs: [...DEFAULTS.envs], cdktn: DEFAULTS.cdktn, provider: DEFAULTS.provider, keep: false,
    typecheck: true, maxPaths: DEFAULTS.maxPaths, freshLock: false, help: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const version = (v: string, flag: string): string => {
    if (!/^\d+\.\d+\.\d+$/.test(v)) throw new UsageError(`${flag} must be an exact version like 1.2.3, got "${v}"`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--keep': o.keep = true; break;
      case '--no-typecheck': o.typecheck = false; break;
      case '--fresh-lock': o.freshLock = true; break;
      case '--env': {
        const v = value(i++, a);
        o.envs = v.split(',').map((s) => s.trim()).filter(Boolean);
        for (const e of o.envs) {
          if (!/^[a-z0-9-]+$/.test(e)) throw new UsageError(`--env must be config names like dev,prod, got "${e}"`);
        }
        break;
      }
      case '--cdktn': o.cdktn = version(value(i++, a), a); break;
      case '--provider': o.provider = version(value(i++, a), a); break;
      case '--constructs': o.constructs = version(value(i++, a), a); break;
      case '--max-paths': {
        const v = value(i++, a);
        if (!/^\d+$/.test(v)) throw new UsageError(`--max-paths must be a whole number, got "${v}"`);
        o.maxPaths = Number(v);
        break;
      }
      case '--report': o.report = path.resolve(value(i++, a)); break;
      default: throw new UsageError(`unknown option "${a}" (see --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Steps (network, files, processes)
// ---------------------------------------------------------------------------------------------------

const ROOT = path.resolve(__dirname, '..');
const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (msg: string): void => console.log(`[cdktn-compat ${elapsed().padStart(7)}] ${msg}`);

function lastLines(text: string, n = 25): string {
  return text.trimEnd().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
}

/** npm with captured output; throws StepError with npm's last lines on failure. */
function npmSync(args: string[], what: string, cwd = os.tmpdir()): string {
  const res = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 120000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (res.error) throw new StepError(`${what}: could not run npm (${res.error.message})`);
  if (res.status !== 0) throw new StepError(`${what} failed (npm ${args.join(' ')}, exit ${res.status}):\n${lastLines(`${res.stdout}\n${res.stderr}`)}`);
  return res.stdout;
}

function npmViewJson<T>(spec: string, field: string): T | undefined {
  const out = npmSync(['view', spec, field, '--json'], `npm view ${spec} ${field}`).trim();
  return out ? (JSON.parse(out) as T) : undefined;
}

function checkRegistry(): void {
  const res = spawnSync('npm', ['ping', '--fetch-retries=1', '--fetch-timeout=20000'],
    { encoding: 'utf8', timeout: 45000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (res.status !== 0) {
    const why = res.error ? (/ETIMEDOUT/.test(res.error.message) ? 'no answer within 45 s' : res.error.message) : `exit ${res.status}`;
    throw new StepError(`the npm registry is not reachable (npm ping: ${why}).\n`
      + 'This check downloads cdktn and @cdktn/provider-aws; run it where the npm registry can be reached.\n'
      + lastLines(`${res.stdout ?? ''}\n${res.stderr ?? ''}`, 8));
  }
}

interface Resolved {
  cdktn: string;
  provider: string;
  constructs: string;
  cdktfProviderWraps?: string;
  cdktnProviderWraps?: string;
  providerPeers?: Record<string, string>;
  providerEngines?: Record<string, string>;
}

function resolveVersions(o: Options): Resolved {
  const exists = (spec: string): void => {
    let found: string | undefined;
    try {
      found = npmViewJson<string>(spec, 'version');
    } catch (e) {
      if (!(e instanceof StepError && /E404|404 No match/.test(e.message))) throw e;
    }
    if (!found) throw new StepError(`${spec} is not published on the npm registry (npm view found no such version)`);
  };
  exists(`cdktn@${o.cdktn}`);
  exists(`@cdktn/provider-aws@${o.provider}`);
  let constructs = o.constructs;
  if (!constructs) {
    const peers = npmViewJson<Record<string, string>>(`cdktn@${o.cdktn}`, 'peerDependencies') ?? {};
    const range = peers.constructs;
    if (!range) throw new StepError(`cdktn@${o.cdktn} declares no constructs peer dependency; pass --constructs`);
    const found = npmViewJson<string | string[]>(`constructs@${range}`, 'version');
    constructs = highestVersion(Array.isArray(found) ? found : found ? [found] : []);
    if (!constructs) throw new StepError(`no constructs version satisfies cdktn's peer range "${range}"`);
    log(`constructs: cdktn ${o.cdktn} needs "${range}" -> ${constructs}`);
  }
  const providerMeta = npmViewJson<{ provider?: { version?: string } }>(`@cdktn/provider-aws@${o.provider}`, 'cdktn')
    ?? npmViewJson<{ provider?: { version?: string } }>(`@cdktn/provider-aws@${o.provider}`, 'cdktf');
  let cdktfProviderWraps: string | undefined;
  try {
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@cdktf', 'provider-aws', 'package.json'), 'utf8'));
    cdktfProviderWraps = p.cdktf?.provider?.version;
  } catch {
    // The repository's install is read only for this note; its absence is reported at the baseline synth.
  }
  return {
    cdktn: o.cdktn, provider: o.provider, constructs,
    cdktfProviderWraps, cdktnProviderWraps: providerMeta?.provider?.version,
    providerPeers: npmViewJson(`@cdktn/provider-aws@${o.provider}`, 'peerDependencies'),
    providerEngines: npmViewJson(`@cdktn/provider-aws@${o.provider}`, 'engines'),
  };
}

/** Copies the app's sources into dest (no node_modules, no build caches, no dot-files). */
function snapshot(dest: string): string[] {
  const copied: string[] = [];
  for (const entry of COPIED) {
    const src = path.join(ROOT, entry);
    if (!fs.existsSync(src)) {
      if (REQUIRED.has(entry)) throw new StepError(`${entry} not found in ${ROOT}`);
      continue;
    }
    fs.cpSync(src, path.join(dest, entry), {
      recursive: true,
      filter: (s) => !/(^|[/\\])(node_modules|\.build|cdktf\.out)([/\\]|$)/.test(path.relative(ROOT, s)) && !path.basename(s).startsWith('.'),
    });
    copied.push(entry);
  }
  return copied;
}

function listFiles(dir: string, pred: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') out.push(...listFiles(p, pred));
    } else if (pred(p)) out.push(p);
  }
  return out.sort();
}

function rewriteTree(dir: string): { files: number; specifiers: Map<string, number> } {
  const specifiers = new Map<string, number>();
  let files = 0;
  const unmapped: string[] = [];
  for (const f of listFiles(dir, (p) => /\.(ts|tsx|js|mjs|cjs)$/.test(p))) {
    const before = fs.readFileSync(f, 'utf8');
    const r = rewriteImports(before);
    unmapped.push(...r.unmapped.map((s) => `${path.relative(dir, f)}: ${s}`));
    if (r.text !== before) {
      fs.writeFileSync(f, r.text);
      files++;
      for (const s of r.rewritten) {
        const key = s.startsWith('@cdktf/provider-aws/lib/') ? '@cdktf/provider-aws/lib/* -> @cdktn/provider-aws/lib/*' : s;
        specifiers.set(key, (specifiers.get(key) ?? 0) + 1);
      }
    }
  }
  if (unmapped.length) throw new StepError(`imports with no cdktn mapping:\n${unmapped.map((u) => `    ${u}`).join('\n')}`);
  const left = listFiles(dir, (p) => /\.(ts|js)$/.test(p)).filter((f) => /['"](cdktf|@cdktf\/)/.test(fs.readFileSync(f, 'utf8')));
  if (left.length) log(`note: files still mentioning 'cdktf in a string (not an import): ${left.map((f) => path.relative(dir, f)).join(', ')}`);
  return { files, specifiers };
}

function countInstalled(dir: string): number {
  const nm = path.join(dir, 'node_modules');
  if (!fs.existsSync(nm)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(nm)) {
    if (e.startsWith('.')) continue;
    n += e.startsWith('@') ? fs.readdirSync(path.join(nm, e)).length : 1;
  }
  return n;
}

/** npm install with a progress line every 15 s; npm's own output goes to npm-install.log. */
async function npmInstall(dir: string): Promise<{ seconds: number; warnings: string[] }> {
  const logFile = path.join(dir, 'npm-install.log');
  const t0 = Date.now();
  const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--loglevel', 'warn'], {
    cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false', CHECKPOINT_DISABLE: '1' },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const timer = setInterval(() => {
    log(`  npm install running ${((Date.now() - t0) / 1000).toFixed(0)} s, ${countInstalled(dir)} top-level packages in node_modules so far`);
  }, 15000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearInterval(timer));
  fs.writeFileSync(logFile, output);
  if (code !== 0) {
    const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|network/i.test(output);
    throw new StepError(`npm install failed (exit ${code})${offline ? ': the npm registry could not be reached' : ''}. npm's last lines:\n${lastLines(output)}`);
  }
  return { seconds: (Date.now() - t0) / 1000, warnings: summarizeNpmWarnings(output) };
}

function readLock(file: string): PackageLock | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as PackageLock) : undefined;
}

/**
 * Packages installed in both trees at different versions (name old -> new), leaving out the switched
 * packages themselves; this is what can change Lambda bundles independently of cdktn.
 */
export function lockDrift(before: PackageLock | undefined, after: PackageLock | undefined): string[] {
  const a = before?.packages ?? {};
  const b = after?.packages ?? {};
  const switched = /^node_modules\/(cdktf|cdktn|constructs|@cdktf\/provider-aws|@cdktn\/provider-aws)$/;
  return Object.keys(b).filter((k) => k && !switched.test(k) && a[k]?.version && b[k]?.version && a[k].version !== b[k].version)
    .sort().map((k) => `${k.replace(/^(.*\/)?node_modules\//, '')} ${a[k].version} -> ${b[k].version}`);
}

/** One line per engine mismatch, peer conflict or deprecation npm warned about. */
export function summarizeNpmWarnings(output: string): string[] {
  const out: string[] = [];
  const engine = /EBADENGINE\s+package: '([^']+)',\s*\n.*required: \{ node: '([^']+)' \},\s*\n.*current: \{ node: '([^']+)'/g;
  for (const m of output.matchAll(engine)) out.push(`EBADENGINE: ${m[1]} declares node ${m[2]}; this node is ${m[3]}`);
  for (const l of output.split('\n')) {
    if (/npm warn (ERESOLVE|deprecated)/i.test(l) || /npm warn.*peer dep/i.test(l)) out.push(l.replace(/^npm warn\s*/i, '').trim());
  }
  return [...new Set(out)];
}

/** The environment variable the installed cdktn App reads its output folder from. */
function outdirVariable(dir: string): string {
  const appJs = path.join(dir, 'node_modules', 'cdktn', 'lib', 'app.js');
  const m = fs.existsSync(appJs) ? /process\.env\.([A-Z_]*OUTDIR)\b/.exec(fs.readFileSync(appJs, 'utf8')) : null;
  if (!m) throw new StepError(`could not find the outdir environment variable in ${appJs}`);
  return m[1];
}

function synth(label: string, cwd: string, tsx: string, outVar: string, outdir: string, env: string): number {
  const t0 = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PLATFORM_ENV: env, [outVar]: outdir, CHECKPOINT_DISABLE: '1' };
  delete childEnv.PLATFORM_CONFIG;
  const res = spawnSync(process.execPath, [tsx, 'main.ts'], { cwd, env: childEnv, encoding: 'utf8', timeout: 600000 });
  if (res.status !== 0) {
    throw new StepError(`${label} synth (${env}) failed (exit ${res.status ?? res.signal}):\n${lastLines(`${res.stdout}\n${res.stderr}`, 30)}`);
  }
  return (Date.now() - t0) / 1000;
}

function typecheck(dir: string): { ok: boolean; seconds: number; output: string } {
  const cfg = {
    extends: './tsconfig.json',
    compilerOptions: { types: ['node'], noEmit: true },
    include: COPIED.filter((e) => e.endsWith('.ts') || ['stacks', 'domain', 'lambda-src', 'contracts'].includes(e))
      .filter((e) => fs.existsSync(path.join(dir, e)))
      .map((e) => (e.endsWith('.ts') ? e : `${e}/**/*.ts`)),
  };
  fs.writeFileSync(path.join(dir, 'tsconfig.compat.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  const t0 = Date.now();
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.compat.json'],
    { cwd: dir, encoding: 'utf8', timeout: 600000 });
  return { ok: res.status === 0, seconds: (Date.now() - t0) / 1000, output: `${res.stdout}${res.stderr}` };
}

interface TypecheckSummary {
  baseline: string[];
  onlyCdktn: string[];
  onlyCdktf: string[];
  seconds: number;
}

/** tsc error lines (file(line,col): error TSnnnn: ...) split into both / only cdktn / only cdktf. */
export function compareTypecheck(cdktfOutput: string, cdktnOutput: string): Omit<TypecheckSummary, 'seconds'> {
  const errors = (out: string): string[] => [...new Set(out.split('\n').filter((l) => /error TS\d+:/.test(l)).map((l) => l.trim()))];
  const [a, b] = [errors(cdktfOutput), errors(cdktnOutput)];
  const unify = (l: string): string => l.replace(/cdktn/g, 'cdktf');
  const inA = new Set(a.map(unify));
  const inB = new Set(b.map(unify));
  return {
    baseline: a.filter((l) => inB.has(unify(l))),
    onlyCdktn: b.filter((l) => !inA.has(unify(l))),
    onlyCdktf: a.filter((l) => !inB.has(unify(l))),
  };
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

interface StackResult {
  env: string;
  stack: string;
  status: 'identical' | 'differs' | 'only-in-cdktf' | 'only-in-cdktn';
  differences: DiffEntry[];
  normalizations: { cdktf: NormalizationCounts; cdktn: NormalizationCounts };
  assets: string;
}

/** Compares each asset (assets/<id>/<hash>/<file>) by the bytes of its files, whatever the hash folder is called. */
function compareAssets(a: string, b: string): string {
  const assets = (d: string): Map<string, string> => {
    const dir = path.join(d, 'assets');
    if (!fs.existsSync(dir)) return new Map();
    return new Map(fs.readdirSync(dir).map((id) => {
      const h = crypto.createHash('sha256');
      for (const f of listFiles(path.join(dir, id), () => true)) h.update(path.basename(f)).update('\0').update(sha256(f));
      return [id, h.digest('hex')];
    }));
  };
  const [fa, fb] = [assets(a), assets(b)];
  const ids = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const differing = ids.filter((n) => fa.get(n) !== fb.get(n));
  if (!ids.length) return 'no assets';
  return differing.length ? `${differing.length} of ${ids.length} assets differ in bytes: ${differing.join(', ')}`
    : `${ids.length} assets, byte-identical`;
}

function compareOutputs(env: string, cdktfOut: string, cdktnOut: string): StackResult[] {
  const stacks = (d: string): string[] => (fs.existsSync(path.join(d, 'stacks')) ? fs.readdirSync(path.join(d, 'stacks')).sort() : []);
  const [a, b] = [stacks(cdktfOut), stacks(cdktnOut)];
  const results: StackResult[] = [];
  for (const stack of [...new Set([...a, ...b])].sort()) {
    const zero = Object.fromEntries(NORMALIZATIONS.map((r) => [r.id, 0]));
    if (!b.includes(stack) || !a.includes(stack)) {
      results.push({ env, stack, status: b.includes(stack) ? 'only-in-cdktn' : 'only-in-cdktf', differences: [],
        normalizations: { cdktf: zero, cdktn: zero }, assets: '' });
      continue;
    }
    const read = (d: string): Json => JSON.parse(fs.readFileSync(path.join(d, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as Json;
    const na = normalizeStack(read(cdktfOut));
    const nb = normalizeStack(read(cdktnOut));
    const differences = diffJson(na.json, nb.json);
    results.push({ env, stack, status: differences.length ? 'differs' : 'identical', differences,
      normalizations: { cdktf: na.counts, cdktn: nb.counts },
      assets: compareAssets(path.join(cdktfOut, 'stacks', stack), path.join(cdktnOut, 'stacks', stack)) });
  }
  return results;
}

/** Raw (un-normalised) differences of the top-level metadata and provider pins, printed for the record. */
function rawStamps(cdktfOut: string, cdktnOut: string): string[] {
  const lines: string[] = [];
  const stacks = fs.existsSync(path.join(cdktnOut, 'stacks')) ? fs.readdirSync(path.join(cdktnOut, 'stacks')).sort() : [];
  const first = stacks.find((s) => fs.existsSync(path.join(cdktfOut, 'stacks', s, 'cdk.tf.json')));
  if (!first) return lines;
  const read = (d: string): Json => JSON.parse(fs.readFileSync(path.join(d, 'stacks', first, 'cdk.tf.json'), 'utf8')) as Json;
  const pick = (j: Json): Json => (isObject(j) ? { '//': j['//'] && isObject(j['//']) ? (j['//'] as Record<string, Json>).metadata ?? null : null,
    required_providers: isObject(j.terraform) ? j.terraform.required_providers ?? null : null } : null);
  for (const d of diffJson(pick(read(cdktfOut)), pick(read(cdktnOut)))) {
    lines.push(`    ${first}: ${d.path}: cdktf ${truncate(d.before, 60)} -> cdktn ${truncate(d.after, 60)}`);
  }
  return lines;
}

function configsToRun(envs: string[]): string[] {
  const available = fs.readdirSync(path.join(ROOT, 'config')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  if (envs.length === 1 && envs[0] === 'all') return available;
  const unknown = envs.filter((e) => !available.includes(e));
  if (unknown.length) throw new UsageError(`unknown --env ${unknown.join(', ')}; configs in config/: ${available.join(', ')}`);
  return envs;
}

async function main(): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`cdktn-compat: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  let envs: string[];
  try {
    envs = configsToRun(opts.envs);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`cdktn-compat: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktn-compat-'));
  const rel = path.relative(ROOT, tmp);
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    console.error(`cdktn-compat: the temporary folder ${tmp} would be inside the repository; set TMPDIR elsewhere`);
    return 2;
  }
  let cleanup = !opts.keep;
  const onSignal = (): void => {
    if (cleanup) fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`temporary folder ${tmp}${opts.keep ? ' (kept: --keep)' : ' (removed at the end; --keep keeps it)'}`);
    log('checking the npm registry (npm ping)');
    checkRegistry();
    const v = resolveVersions(opts);
    log(`versions: cdktn ${v.cdktn}, @cdktn/provider-aws ${v.provider} (wraps hashicorp/aws ${v.cdktnProviderWraps ?? '?'}), constructs ${v.constructs}`);
    log(`baseline: the repository's installed cdktf + @cdktf/provider-aws (wraps hashicorp/aws ${v.cdktfProviderWraps ?? '?'})`);
    if (v.providerPeers) log(`@cdktn/provider-aws ${v.provider} peer dependencies: ${JSON.stringify(v.providerPeers)}`);
    if (v.providerEngines?.node) log(`@cdktn/provider-aws ${v.provider} engines.node "${v.providerEngines.node}"; this node is ${process.version}`);

    const src = path.join(tmp, 'src');
    fs.mkdirSync(src);
    const copied = snapshot(src);
    log(`snapshot of the working tree: ${copied.join(', ')}`);

    // Baseline: the same snapshot synthesized with the repository's own node_modules (read only, symlinked).
    const base = path.join(tmp, 'cdktf');
    fs.cpSync(src, base, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(base, 'package.json'));
    const repoModules = path.join(ROOT, 'node_modules');
    if (!fs.existsSync(path.join(repoModules, 'cdktf'))) throw new StepError('the repository has no node_modules/cdktf: run npm ci first (the baseline uses it)');
    fs.symlinkSync(repoModules, path.join(base, 'node_modules'), 'dir');

    const app = path.join(tmp, 'cdktn');
    fs.cpSync(src, app, { recursive: true });
    const rw = rewriteTree(app);
    log(`rewrote imports in ${rw.files} files: ${[...rw.specifiers].map(([k, n]) => `${k} (${n})`).join('; ')}`);
    const repoPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
    const lockFile = path.join(ROOT, 'package-lock.json');
    const lock = readLock(lockFile);
    const plan = buildPackageJson(repoPkg, lock, v);
    fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify(plan.json, null, 2)}\n`);
    for (const c of plan.changes) log(`package.json: ${c}`);
    if (!opts.freshLock && lock) {
      fs.copyFileSync(lockFile, path.join(app, 'package-lock.json'));
      log('install starts from the repository\'s package-lock.json: transitive dependencies keep the repository\'s versions (--fresh-lock resolves them afresh)');
    } else log('install resolves every transitive dependency afresh (no lock file)');

    log('npm install (cdktn copy; npm output in npm-install.log there)');
    const inst = await npmInstall(app);
    log(`npm install done in ${inst.seconds.toFixed(1)} s, ${countInstalled(app)} top-level packages`);
    const drift = lockDrift(lock, readLock(path.join(app, 'package-lock.json')));
    log(`transitive versions that differ from the repository's lock: ${drift.length}${drift.length ? ` (${drift.slice(0, 8).join(', ')}${drift.length > 8 ? ', …' : ''})` : ''}`);
    for (const w of inst.warnings) log(`  npm warned: ${w}`);
    const installed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'cdktn', 'package.json'), 'utf8')).version as string;
    const outVar = outdirVariable(app);
    log(`installed cdktn ${installed}; its App reads the output folder from ${outVar} (cdktf: CDKTF_OUTDIR)`);

    let tc: TypecheckSummary | undefined;
    if (opts.typecheck) {
      log('tsc --noEmit of the same snapshot against cdktf (baseline) and against cdktn + @cdktn/provider-aws');
      const ta = typecheck(base);
      const tb = typecheck(app);
      tc = { ...compareTypecheck(ta.output, tb.output), seconds: tb.seconds };
      log(`type-check: cdktf ${ta.ok ? 'passed' : `${tc.baseline.length} errors`} (${ta.seconds.toFixed(1)} s), `
        + `cdktn ${tb.ok ? 'passed' : `${tc.baseline.length + tc.onlyCdktn.length - tc.onlyCdktf.length} errors`} (${tb.seconds.toFixed(1)} s)`);
      if (tc.baseline.length) log(`  errors in both (the snapshot itself, not the migration):\n${tc.baseline.slice(0, 10).map((l) => `    ${l}`).join('\n')}`);
      if (tc.onlyCdktn.length) log(`  errors only under cdktn:\n${tc.onlyCdktn.slice(0, 40).map((l) => `    ${l}`).join('\n')}`);
      if (tc.onlyCdktf.length) log(`  errors only under cdktf:\n${tc.onlyCdktf.slice(0, 10).map((l) => `    ${l}`).join('\n')}`);
    }

    const tsxBase = path.join(repoModules, 'tsx', 'dist', 'cli.mjs');
    const tsxApp = path.join(app, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    fs.mkdirSync(path.join(tmp, 'out'));
    const results: StackResult[] = [];
    const timings: string[] = [];
    const stampLines: string[] = [];
    for (const env of envs) {
      const outA = path.join(tmp, 'out', `cdktf-${env}`);
      const outB = path.join(tmp, 'out', `cdktn-${env}`);
      log(`synth ${env} with cdktf (baseline)`);
      const ta = synth('cdktf', base, tsxBase, 'CDKTF_OUTDIR', outA, env);
      log(`synth ${env} with cdktn`);
      const tb = synth('cdktn', app, tsxApp, outVar, outB, env);
      timings.push(`${env}: cdktf ${ta.toFixed(1)} s, cdktn ${tb.toFixed(1)} s`);
      results.push(...compareOutputs(env, outA, outB));
      stampLines.push(...rawStamps(outA, outB).map((l) => `${env} ${l.trim()}`));
    }

    console.log('\n=== normalisations applied before diffing (both sides; counts are per stack, cdktf/cdktn)');
    for (const r of NORMALIZATIONS) {
      const used = results.map((x) => `${x.env}/${x.stack} ${x.normalizations.cdktf[r.id]}/${x.normalizations.cdktn[r.id]}`);
      console.log(`  ${r.id}: ${r.description}\n    ${used.join(', ')}`);
    }
    console.log('  raw values the normalisations hide (first stack of each config):');
    for (const l of stampLines) console.log(`    ${l}`);
    console.log('  not normalised: per-resource "//" metadata (construct paths, unique ids = Terraform addresses), asset hashes and paths, everything else');

    console.log('\n=== per-stack result (cdk.tf.json, cdktf -> cdktn)');
    for (const r of results) {
      const head = `  ${r.env.padEnd(8)} ${r.stack.padEnd(18)}`;
      if (r.status === 'identical') console.log(`${head} identical (${r.assets})`);
      else if (r.status === 'differs') {
        console.log(`${head} ${r.differences.length} differing paths (${r.assets})`);
        for (const l of formatDiff(r.differences, opts.maxPaths)) console.log(l);
      } else console.log(`${head} ${r.status}`);
    }
    console.log(`\nsynth times: ${timings.join('; ')}`);
    if (tc) {
      console.log(`type-check: ${tc.onlyCdktn.length} errors only under cdktn, ${tc.baseline.length} in both, `
        + `${tc.onlyCdktf.length} only under cdktf (${tc.seconds.toFixed(1)} s)`);
    }
    if (opts.report) {
      fs.writeFileSync(opts.report, `${JSON.stringify({ date: new Date().toISOString(), versions: v, node: process.version,
        outdirVariable: outVar, packageChanges: plan.changes, lockSeeded: !opts.freshLock, lockDrift: drift, timings, typecheck: tc,
        normalizations: NORMALIZATIONS, results }, null, 2)}\n`);
      console.log(`full report: ${opts.report}`);
    }
    const differing = results.filter((r) => r.status !== 'identical').length;
    console.log(`\n${results.length - differing} of ${results.length} stacks identical after normalisation; total wall time ${elapsed()}`);
    if (opts.keep) console.log(`kept: ${tmp}`);
    return differing ? 1 : 0;
  } catch (e) {
    if (e instanceof StepError || e instanceof UsageError) {
      console.error(`\ncdktn-compat: ${e.message}`);
      if (!opts.keep) console.error('(the temporary folder is removed; pass --keep to inspect it)');
      else console.error(`kept: ${tmp}`);
      return 2;
    }
    cleanup = !opts.keep;
    throw e;
  } finally {
    if (cleanup) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code), (e: unknown) => {
    console.error(e);
    process.exit(2);
  });
}
