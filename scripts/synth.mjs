#!/usr/bin/env node
// Synthesizes every stack into cdktf.out atomically: the app writes into a staging directory and the
// result replaces cdktf.out only when synth succeeded, so bad config or a guardrail error never leaves
// a half-written cdktf.out behind. No AWS credentials are needed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, process.env.CDKTF_OUT ?? 'cdktf.out');
const staging = `${out}.staging-${process.pid}`;
const started = process.hrtime.bigint();

rmSync(staging, { recursive: true, force: true });
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
// DEP0044 (util.isArray, runtime-deprecated since Node.js 22) comes from cdktf 0.21.0's TerraformOutput,
// the last cdktf release, not from this project; it would be the one warning of every synth. Only that
// code is silenced (NODE_OPTIONS, so tsx's own node process gets it): any other deprecation still prints.
const nodeOptions = [process.env.NODE_OPTIONS, '--disable-warning=DEP0044'].filter(Boolean).join(' ');
const res = spawnSync(process.execPath, [tsx, join(root, 'main.ts')], {
  cwd: root,
  env: { ...process.env, CDKTF_OUTDIR: staging, NODE_OPTIONS: nodeOptions },
  stdio: 'inherit',
});
if (res.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`synth failed (exit ${res.status ?? res.signal}); cdktf.out left unchanged`);
  process.exit(res.status || 1);
}
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
const stacksDir = join(out, 'stacks');
const stacks = existsSync(stacksDir) ? readdirSync(stacksDir).sort() : [];
const ms = Number((process.hrtime.bigint() - started) / 1000000n);
for (const s of stacks) {
  const f = join(stacksDir, s, 'cdk.tf.json');
  console.log(`  ${s.padEnd(20)} ${String(statSync(f).size).padStart(8)} bytes  ${f.replace(root + '/', '')}`);
}
console.log(`synthesized ${stacks.length} stacks into ${out.replace(root + '/', '')} in ${(ms / 1000).toFixed(2)} s`);
