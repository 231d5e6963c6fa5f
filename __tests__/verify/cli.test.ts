/** `npm run verify` end to end on hand-written cdktf.out trees: counts printed, exit 1 on a finding. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../test-support/config-fixture';
import type { Stacks } from '../../scripts/verify/stacks';
import { goodStacks, mutate } from './fixtures';

function writeOut(stacks: Stacks): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
  for (const [id, tf] of Object.entries(stacks)) {
    fs.mkdirSync(path.join(dir, 'stacks', id), { recursive: true });
    fs.writeFileSync(path.join(dir, 'stacks', id, 'cdk.tf.json'), JSON.stringify(tf, null, 2));
  }
  return dir;
}

function verify(stacks: Stacks, out = writeOut(stacks)) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'verify.ts')], {
    cwd: ROOT, encoding: 'utf8',
    env: { ...process.env, PLATFORM_ENV: 'dev', VERIFY_OUT: out, VERIFY_SKIP: 'determinism,workflows' },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
}

// The README documents the real platform's outputs, not the fixture's operator output.
const clean = () => mutate(goodStacks(), (s) => { delete s['security-baseline'].output!.audit_bucket; });

test('a clean tree exits 0 and prints the counts', () => {
  const r = verify(clean());
  expect(r.out).toMatch(/references resolved: \d+ \(remote-state reads 6, stack edges 6\)/);
  expect(r.out).toMatch(/policies linted: 0/);
  expect(r.out).toMatch(/event patterns tested: 3 \(7 sample events\)/);
  // Next firings count from today: the first one of cron(0 0 * * ? *) is the coming UTC midnight.
  const now = new Date();
  const midnight = (days: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days)).toISOString();
  const firstFiring = /next firings compute:aws_cloudwatch_event_rule\.nightly cron\(0 0 \* \* \? \*\) -> (\S+), (\S+), (\S+)$/m.exec(r.out);
  expect(firstFiring?.slice(1)).toEqual([midnight(1), midnight(2), midnight(3)]);
  expect(r.out).toMatch(/verify: 0 finding\(s\) on 5 stacks in \d+\.\d\d s/);
  expect(r.code).toBe(0);
});

test('a broken reference exits 1 naming the stack, the address and what was expected', () => {
  const r = verify(mutate(clean(), (s) => { s.data.resource!.aws_dynamodb_table['job-status'].stream_arn = '${aws_kinesis_stream.events.arn}'; }));
  expect(r.out).toMatch(/\[contracts\] data: aws_dynamodb_table\.job-status \(stream_arn\): \$\{aws_kinesis_stream\.events\.arn\} refers to aws_kinesis_stream\.events, which this stack does not declare/);
  expect(r.code).toBe(1);
});

test.each([
  ['no synth output', () => path.join(os.tmpdir(), `verify-missing-${process.pid}`), /^verify could not run: \S*verify-missing-\d+\/stacks does not exist: run `npm run synth` first/],
  ['an empty stacks directory', () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-empty-')); fs.mkdirSync(path.join(d, 'stacks')); return d; }, /^verify could not run: no \S+\/stacks\/\*\/cdk\.tf\.json found/],
  ['a truncated cdk.tf.json', () => { const d = writeOut(clean()); fs.writeFileSync(path.join(d, 'stacks', 'data', 'cdk.tf.json'), '{"resource": {'); return d; }, /^verify could not run: \S+data\/cdk\.tf\.json is not valid JSON/],
])('%s: one clear line on stderr, exit 2, no stack trace', (_, dir, message) => {
  const r = verify({}, dir());
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(2);
});
