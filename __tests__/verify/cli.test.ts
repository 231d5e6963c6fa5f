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

function verify(stacks: Stacks) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'verify.ts')], {
    cwd: ROOT, encoding: 'utf8',
    env: { ...process.env, PLATFORM_ENV: 'dev', VERIFY_OUT: writeOut(stacks), VERIFY_SKIP: 'determinism,workflows' },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

// The README documents the real platform's outputs, not the fixture's operator output.
const clean = () => mutate(goodStacks(), (s) => { delete s['security-baseline'].output!.audit_bucket; });

test('a clean tree exits 0 and prints the counts', () => {
  const r = verify(clean());
  expect(r.out).toMatch(/references resolved: \d+ \(remote-state reads 6, stack edges 6\)/);
  expect(r.out).toMatch(/policies linted: 0/);
  expect(r.out).toMatch(/event patterns tested: 3 \(7 sample events\)/);
  expect(r.out).toMatch(/next firings compute:aws_cloudwatch_event_rule\.nightly cron\(0 0 \* \* \? \*\) -> 2026-11-24T00:00:00\.000Z/);
  expect(r.out).toMatch(/verify: 0 finding\(s\) on 5 stacks in \d+\.\d\d s/);
  expect(r.code).toBe(0);
});

test('a broken reference exits 1 naming the stack, the address and what was expected', () => {
  const r = verify(mutate(clean(), (s) => { s.data.resource!.aws_dynamodb_table['job-status'].stream_arn = '${aws_kinesis_stream.events.arn}'; }));
  expect(r.out).toMatch(/\[contracts\] data: aws_dynamodb_table\.job-status \(stream_arn\): \$\{aws_kinesis_stream\.events\.arn\} refers to aws_kinesis_stream\.events, which this stack does not declare/);
  expect(r.code).toBe(1);
});
