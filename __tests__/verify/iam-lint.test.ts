/** IAM policy lint with parliament on hand-written broken policies; suppressions need a reason. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { collectPolicies, lintPolicies } from '../../scripts/verify/iam-lint';
import { goodStacks, mutate } from './fixtures';

const doc = (statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const EMPTY = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lint-')), 'none.yaml');
fs.writeFileSync(EMPTY, 'suppressions: []\n');

function withPolicy(statements: object[]) {
  return mutate(goodStacks(), (s) => {
    s.data.resource!.aws_iam_role_policy = { handler: { role: 'r', policy: doc(statements) } };
  });
}
const lint = (stacks = goodStacks(), suppressions = EMPTY) => lintPolicies(stacks, suppressions);

test('a scoped policy with resolved references passes', () => {
  const r = lint(withPolicy([
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: '${aws_s3_bucket.input_bucket_1.arn}/transactions/*' },
    { Effect: 'Allow', Action: ['dynamodb:UpdateItem'], Resource: '${aws_dynamodb_table.job-status.arn}' },
    { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
  ]));
  expect(r.findings).toEqual([]);
  expect(r.linted).toBe(1);
});

test('references are replaced by realistic ARNs before linting', () => {
  const { docs } = collectPolicies(withPolicy([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '${aws_s3_bucket.input_bucket_1.arn}/*' }]));
  expect(JSON.stringify(docs[0].policy)).toContain('"arn:aws:s3:::fbp-dev-input-123456789012/*"');
});

test.each([
  ['an unknown action', [{ Effect: 'Allow', Action: 's3:GetObjekt', Resource: 'arn:aws:s3:::b/*' }], /UNKNOWN_ACTION.*s3:GetObjekt/],
  ['a resource ARN that does not fit the action', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '${aws_dynamodb_table.job-status.arn}' }], /RESOURCE_MISMATCH/],
  ['a malformed condition operator', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEqualz: { 's3:prefix': 'x' } } }], /UNKNOWN_OPERATOR/],
  ['Resource "*" outside the security gate allow-list', [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: '*' }], /RESOURCE_STAR.*kms:Decrypt/],
])('%s is a finding', (_n, statements, expected) => {
  const r = lint(withPolicy(statements));
  expect(r.findings.map((f) => `${f.stack}:${f.address} ${f.message}`).join('\n')).toMatch(new RegExp(`data:aws_iam_role_policy\\.handler policy: ${expected.source}`));
});

test('a policy that is not JSON after resolution is a finding', () => {
  const broken = mutate(goodStacks(), (s) => { s.data.resource!.aws_iam_role_policy = { p: { role: 'r', policy: '{"Statement": [' } }; });
  expect(lint(broken).findings[0].message).toMatch(/not valid JSON/);
});

test('trust policies are linted with the role as resource, key policies may use Resource "*"', () => {
  const stacks = mutate(goodStacks(), (s) => {
    s.data.resource!.aws_iam_role = { r: { name: 'fbp-dev-role', assume_role_policy: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) } };
    s.data.resource!.aws_kms_key = { k: { policy: doc([{ Sid: 'Root', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }]) } };
  });
  const r = lint(stacks);
  expect(r.findings).toEqual([]);
  expect(r.linted).toBe(2);
});

test('a finding is suppressed only by a matching entry with a reason; bad entries are rejected', () => {
  const stacks = withPolicy([{ Effect: 'Allow', Action: 's3:GetObjekt', Resource: 'arn:aws:s3:::b/*' }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-'));
  const good = path.join(dir, 'good.yaml');
  fs.writeFileSync(good, 'suppressions:\n  - issue: UNKNOWN_ACTION\n    detail_contains: "s3:GetObjekt"\n    resources: ["data:aws_iam_role_policy.handler"]\n    reason: "deliberate test entry proving the filter works"\n');
  const r = lint(stacks, good);
  expect(r.findings).toEqual([]);
  expect(r.suppressed).toEqual([expect.objectContaining({ issue: 'UNKNOWN_ACTION', reason: 'deliberate test entry proving the filter works' })]);
  const other = path.join(dir, 'other.yaml');
  fs.writeFileSync(other, 'suppressions:\n  - issue: UNKNOWN_ACTION\n    resources: ["compute:*"]\n    reason: "applies to another stack entirely, must not match"\n');
  expect(lint(stacks, other).findings).toHaveLength(1);
  expect(lint(stacks, other).stale).toHaveLength(1);
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'suppressions:\n  - issue: UNKNOWN_ACTION\n    resources: ["data:*"]\n');
  expect(() => lint(stacks, bad)).toThrow(/reason: must explain why/);
});
