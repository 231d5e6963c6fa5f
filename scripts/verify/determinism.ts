/**
 * Synth is deterministic: two synths of the same tree into different directories are byte-identical
 * (stack JSON, manifest and asset files), so Terraform Cloud never sees spurious diffs.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Finding } from './stacks';

const ROOT = path.resolve(__dirname, '..', '..');

/** Relative path -> sha256 of every file under dir. */
export function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

export function compareTrees(a: string, b: string): Finding[] {
  const ha = treeHashes(a);
  const hb = treeHashes(b);
  const findings: Finding[] = [];
  for (const f of new Set([...ha.keys(), ...hb.keys()])) {
    const stack = /^stacks\/([^/]+)\//.exec(f)?.[1] ?? '(app)';
    if (!ha.has(f) || !hb.has(f)) findings.push({ check: 'determinism', stack, address: f, message: `present in only one of two synths` });
    else if (ha.get(f) !== hb.get(f)) findings.push({ check: 'determinism', stack, address: f, message: 'differs between two synths of the same tree' });
  }
  return findings;
}

/** Synthesizes twice into fresh temp dirs (scripts/synth.mjs) and compares them byte for byte. */
export function checkDeterminism(): { findings: Finding[]; files: number } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-determinism-'));
  try {
    const dirs = ['a', 'b'].map((n) => path.join(base, n));
    for (const out of dirs) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'synth.mjs')], {
        cwd: ROOT, env: { ...process.env, CDKTF_OUT: out }, encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`synth into ${out} failed (exit ${r.status}):\n${r.stderr}`);
    }
    return { findings: compareTrees(dirs[0], dirs[1]), files: treeHashes(dirs[0]).size };
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
