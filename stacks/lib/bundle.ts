/**
 * Bundles a Lambda handler (`lambda-src/<name>/index.ts`) with esbuild into a deterministic zip.
 * Results are cached under `.build/lambda/` keyed by a hash of every source file that can reach the
 * bundle (lambda-src/, domain/, package-lock.json), so repeated synths and test runs do not rebundle.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { createZip } from './deterministic-zip';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_DIRS = ['lambda-src', 'domain', 'contracts'];

export interface BundleResult {
  /** Absolute path of the zip. */
  readonly zipPath: string;
  /** base64 SHA-256 of the zip (Lambda's source_code_hash format). */
  readonly sha256Base64: string;
  readonly bytes: number;
  readonly entry: string;
}

let sourceHashMemo: string | undefined;

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (/\.(ts|js|json|sql)$/.test(e.name)) out.push(p);
  }
  return out;
}

function sourceHash(): string {
  if (sourceHashMemo) return sourceHashMemo;
  const h = crypto.createHash('sha256');
  const files = SOURCE_DIRS.flatMap((d) => listFiles(path.join(PROJECT_ROOT, d))).sort();
  const lock = path.join(PROJECT_ROOT, 'package-lock.json');
  if (fs.existsSync(lock)) files.push(lock);
  for (const f of files) {
    h.update(path.relative(PROJECT_ROOT, f));
    h.update('\0');
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  sourceHashMemo = h.digest('hex').slice(0, 16);
  return sourceHashMemo;
}

export function bundleHandler(name: string, options: { buildDir?: string } = {}): BundleResult {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`lambda name "${name}" must be kebab-case`);
  const entry = path.join(PROJECT_ROOT, 'lambda-src', name, 'index.ts');
  if (!fs.existsSync(entry)) {
    throw new Error(`lambda entry not found: lambda-src/${name}/index.ts (NodejsFunction entry "${name}")`);
  }
  const outDir = path.join(options.buildDir ?? path.join(PROJECT_ROOT, '.build', 'lambda'), `${name}-${sourceHash()}`);
  const zipPath = path.join(outDir, 'function.zip');
  if (!fs.existsSync(zipPath)) {
    // Loaded lazily: esbuild is only needed when the cache misses.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      write: false,
      // mysql2 pulls optional native/cloud modules that are never used at runtime.
      external: ['pg-native', 'cardinal'],
      logLevel: 'silent',
    });
    if (result.errors.length) {
      throw new Error(`esbuild failed for lambda-src/${name}: ${result.errors.map((e) => e.text).join('; ')}`);
    }
    const code = Buffer.from(result.outputFiles[0].contents);
    fs.mkdirSync(outDir, { recursive: true });
    const tmp = `${zipPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, createZip([{ name: 'index.js', data: code }]));
    fs.renameSync(tmp, zipPath);
  }
  const zip = fs.readFileSync(zipPath);
  return {
    zipPath,
    sha256Base64: crypto.createHash('sha256').update(zip).digest('base64'),
    bytes: zip.length,
    entry: `lambda-src/${name}/index.ts`,
  };
}
