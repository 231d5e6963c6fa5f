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

interface CheckContext {
  readonly stacks: ReturnType<typeof loadStacks>;
  readonly cfg: ReturnType<typeof loadConfig>;
  /** State machines found by the asl check, run by the workflows check. */
  machines?: ReturnType<typeof checkStateMachines>['machines'];
  /** Parliament suppressions no policy of this synth needed (iam check). */
  staleSuppressions?: unknown[];
}

interface CheckResult {
  readonly findings: Finding[];
  /** One line: what was checked, with counts. */
  readonly summary: string;
  /** Lines printed under the summary. */
  readonly details?: string[];
}

interface Check {
  readonly name: string;
  /** May be skipped with VERIFY_SKIP (local iteration only; CI runs every check). */
  readonly skippable?: boolean;
  readonly run: (ctx: CheckContext) => CheckResult | Promise<CheckResult>;
}

/** The checks, in the order they run and print. */
const CHECKS: readonly Check[] = [
  {
    name: 'contracts',
    run: ({ stacks }) => {
      const r = checkContracts(stacks, fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
      return { findings: r.findings, summary: `references resolved: ${r.stats.references} (remote-state reads ${r.stats.remoteReads}, stack edges ${r.stats.edges})` };
    },
  },
  {
    name: 'iam',
    run: (ctx) => {
      const r = lintPolicies(ctx.stacks);
      ctx.staleSuppressions = r.stale;
      return { findings: r.findings, summary: `policies linted: ${r.linted} (suppressed findings ${r.suppressed.length}, stale suppressions ${r.stale.length})` };
    },
  },
  {
    name: 'asl',
    run: (ctx) => {
      const r = checkStateMachines(ctx.stacks);
      ctx.machines = r.machines;
      return { findings: r.findings, summary: `state machines validated: ${r.machines.length}` };
    },
  },
  {
    name: 'workflows',
    skippable: true,
    run: async (ctx) => {
      const r = await runWorkflowPaths(ctx.stacks, ctx.machines ?? []);
      return { findings: r.findings, summary: `workflow executions on moto: ${r.executions} (${r.notes.join('; ') || 'no notes'})` };
    },
  },
  {
    name: 'events',
    run: ({ stacks, cfg }) => {
      const r = checkEventPatterns(stacks, sampleContext(stacks, cfg.security.guardDutyMinSeverity, cfg.region));
      return { findings: r.findings, summary: `event patterns tested: ${r.patterns} (${r.events} sample events)` };
    },
  },
  {
    name: 'schedules',
    // Next firings from now: the operator reads them as "when will this fire next".
    run: ({ stacks, cfg }) => {
      const r = checkSchedules(stacks, expectedSchedules(cfg), new Date());
      return { findings: r.findings, summary: `schedules parsed: ${r.schedules}`, details: r.firings.map((f) => `  next firings ${f}`) };
    },
  },
  {
    name: 'determinism',
    skippable: true,
    run: async () => {
      const r = await checkDeterminism();
      return { findings: r.findings, summary: `deterministic synth: ${r.files} files compared across two synths` };
    },
  },
];

/** VERIFY_SKIP as a set of check names; an unknown or unskippable name is bad input. */
function skipped(): Set<string> {
  const names = (process.env.VERIFY_SKIP ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  const allowed = CHECKS.filter((c) => c.skippable).map((c) => c.name);
  const bad = names.filter((n) => !allowed.includes(n));
  if (bad.length) throw new VerifyInputError(`VERIFY_SKIP names ${bad.join(', ')}: only ${allowed.join(', ')} may be skipped`);
  return new Set(names);
}

async function main(): Promise<number> {
  const started = process.hrtime.bigint();
  const out = path.resolve(ROOT, process.env.VERIFY_OUT ?? 'cdktf.out');
  const skip = skipped();
  const ctx: CheckContext = { cfg: loadConfig(), stacks: loadStacks(out) };
  const findings: Finding[] = [];
  for (const check of CHECKS) {
    if (skip.has(check.name)) continue;
    const t = process.hrtime.bigint();
    const r = await check.run(ctx);
    findings.push(...r.findings);
    console.log(`${r.summary} — ${check.name} (${Number((process.hrtime.bigint() - t) / 1000000n)} ms)`);
    for (const line of r.details ?? []) console.log(line);
  }
  // Some suppressions apply only to some environments (e.g. VPC-endpoint pinning in prod): CI verifies
  // every config, so a suppression is stale only when no environment uses it.
  if (ctx.staleSuppressions?.length) {
    console.log(`note: ${ctx.staleSuppressions.length} parliament suppression(s) apply to other environments, not this synth: ${JSON.stringify(ctx.staleSuppressions)}`);
  }
  const ms = Number((process.hrtime.bigint() - started) / 1000000n);
  if (findings.length) {
    console.log(`\n${findings.length} finding(s):`);
    for (const f of [...findings].sort((a, b) => `${a.stack}${a.check}`.localeCompare(`${b.stack}${b.check}`))) {
      console.log(`  [${f.check}] ${f.stack}: ${f.address}: ${f.message}`);
    }
  }
  console.log(`verify: ${findings.length} finding(s) on ${Object.keys(ctx.stacks).length} stacks in ${(ms / 1000).toFixed(2)} s`);
  return findings.length ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  // Wrong input (no synth output, bad config) is one clear line; anything else is a bug in verify: its stack helps.
  if (e instanceof VerifyInputError || e instanceof ConfigError) console.error(`verify could not run: ${e.message}`);
  else console.error(`verify could not run: ${(e as Error).stack ?? e}`);
  process.exit(2);
});
