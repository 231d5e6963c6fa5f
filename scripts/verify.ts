/**
 * `npm run verify`: offline deployability checks on the synthesized cdktf.out — cross-stack
 * contracts, IAM policy lint (parliament), Step Functions ASL + executions on moto, event patterns
 * against real sample events, schedule firing times, and deterministic synth. Prints counts and run
 * time; exits 1 on any finding, 2 when the checks cannot run (no synth output or bad config: one line).
 *
 *   VERIFY_OUT=<dir>        synthesized output to check (default cdktf.out; run `npm run synth` first)
 *   VERIFY_SKIP=a,b         skip named checks (determinism, workflows) — for local iteration only
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfig } from '../stacks/config';
import { Finding, loadStacks, VerifyInputError } from './verify/stacks';
import { checkContracts } from './verify/contracts';
import { lintPolicies } from './verify/iam-lint';
import { checkStateMachines } from './verify/asl';
import { checkEventPatterns, sampleContext } from './verify/event-patterns';
import { checkSchedules, expectedSchedules } from './verify/schedules';
import { checkDeterminism } from './verify/determinism';
import { runWorkflowPaths } from './verify/workflow-paths';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<number> {
  const started = process.hrtime.bigint();
  const out = path.resolve(ROOT, process.env.VERIFY_OUT ?? 'cdktf.out');
  const skip = new Set((process.env.VERIFY_SKIP ?? '').split(',').filter(Boolean));
  const cfg = loadConfig();
  const stacks = loadStacks(out);
  const findings: Finding[] = [];
  const lines: string[] = [];
  const timed = async <T>(label: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = process.hrtime.bigint();
    const r = await fn();
    lines.push(`${label} (${Number((process.hrtime.bigint() - t) / 1000000n)} ms)`);
    return r;
  };

  const contracts = await timed('contracts', () => checkContracts(stacks, fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')));
  findings.push(...contracts.findings);
  lines[lines.length - 1] = `references resolved: ${contracts.stats.references} (remote-state reads ${contracts.stats.remoteReads}, stack edges ${contracts.stats.edges}) — ${lines[lines.length - 1]}`;

  const lint = await timed('iam', () => lintPolicies(stacks));
  findings.push(...lint.findings);
  lines[lines.length - 1] = `policies linted: ${lint.linted} (suppressed findings ${lint.suppressed.length}, stale suppressions ${lint.stale.length}) — ${lines[lines.length - 1]}`;

  const asl = await timed('asl', () => checkStateMachines(stacks));
  findings.push(...asl.findings);
  lines[lines.length - 1] = `state machines validated: ${asl.machines.length} — ${lines[lines.length - 1]}`;

  if (!skip.has('workflows')) {
    const wf = await timed('workflows', () => runWorkflowPaths(stacks, asl.machines));
    findings.push(...wf.findings);
    lines[lines.length - 1] = `workflow executions on moto: ${wf.executions} (${wf.notes.join('; ') || 'no notes'}) — ${lines[lines.length - 1]}`;
  }

  const events = await timed('events', () => checkEventPatterns(stacks, sampleContext(stacks, cfg.security.guardDutyMinSeverity, cfg.region)));
  findings.push(...events.findings);
  lines[lines.length - 1] = `event patterns tested: ${events.patterns} (${events.events} sample events) — ${lines[lines.length - 1]}`;

  // Next firings from now: the operator reads them as "when will this fire next".
  const schedules = await timed('schedules', () => checkSchedules(stacks, expectedSchedules(cfg), new Date()));
  findings.push(...schedules.findings);
  lines[lines.length - 1] = `schedules parsed: ${schedules.schedules} — ${lines[lines.length - 1]}`;
  for (const f of schedules.firings) lines.push(`  next firings ${f}`);

  if (!skip.has('determinism')) {
    const det = await timed('determinism', () => checkDeterminism());
    findings.push(...det.findings);
    lines[lines.length - 1] = `deterministic synth: ${det.files} files compared across two synths — ${lines[lines.length - 1]}`;
  }

  for (const l of lines) console.log(l);
  // Some suppressions apply only to some environments (e.g. VPC-endpoint pinning in prod): CI verifies
  // every config, so a suppression is stale only when no environment uses it.
  if (lint.stale.length) console.log(`parliament suppressions unused on this synth (stale if unused in every environment): ${JSON.stringify(lint.stale)}`);
  const ms = Number((process.hrtime.bigint() - started) / 1000000n);
  if (findings.length) {
    console.log(`\n${findings.length} finding(s):`);
    for (const f of [...findings].sort((a, b) => `${a.stack}${a.check}`.localeCompare(`${b.stack}${b.check}`))) {
      console.log(`  [${f.check}] ${f.stack}: ${f.address}: ${f.message}`);
    }
  }
  console.log(`verify: ${findings.length} finding(s) on ${Object.keys(stacks).length} stacks in ${(ms / 1000).toFixed(2)} s`);
  return findings.length ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  // Wrong input (no synth output, bad config) is one clear line; anything else is a bug in verify: its stack helps.
  if (e instanceof VerifyInputError || e instanceof ConfigError) console.error(`verify could not run: ${e.message}`);
  else console.error(`verify could not run: ${(e as Error).stack ?? e}`);
  process.exit(2);
});
