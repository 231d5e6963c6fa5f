/**
 * `npm run scan`: real checkov over a deliberately insecure stack fails with the check ids and
 * addresses; report.py applies per-resource suppressions only when check id, stack and address match,
 * and rejects suppressions without a reason.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../test-support/config-fixture';

const PY = path.join(ROOT, '.venv', 'bin', 'python');
const REPORT = path.join(ROOT, 'scripts', 'checkov', 'report.py');
const FIXTURES = path.join(__dirname, 'fixtures', 'broken-stacks');

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function tmp(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scan-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** A checkov JSON report with one failed check on one resource of stack `data`. */
function fakeReport(check = 'CKV_AWS_18', resource = 'aws_s3_bucket.input_bucket_ABC'): string {
  return tmp('checkov.json', JSON.stringify({
    check_type: 'terraform_json',
    results: {
      passed_checks: [{ check_id: 'CKV_AWS_21', resource, file_path: '/cdktf.out/stacks/data/cdk.tf.json' }],
      failed_checks: [{ check_id: check, check_name: 'Ensure the S3 bucket has access logging enabled', resource, file_path: '/cdktf.out/stacks/data/cdk.tf.json' }],
      skipped_checks: [],
      parsing_errors: [],
    },
    summary: { passed: 1, failed: 1, skipped: 0 },
  }));
}

describe('scan with real checkov', () => {
  test('a deliberately insecure stack fails, naming check ids and resource addresses', () => {
    const r = run('bash', ['scripts/scan.sh'], { SCAN_STACKS_DIR: FIXTURES });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/insecure\s+\d+\s+[1-9]\d*/); // per-stack row with a non-zero failed count
    expect(r.out).toMatch(/CKV_AWS_24\s+insecure:aws_security_group\.ssh_world/); // SSH from 0.0.0.0/0
    expect(r.out).toMatch(/CKV_AWS_\d+\s+insecure:aws_s3_bucket\.open_bucket/);
  });
});

describe('report.py suppressions', () => {
  const suppress = (resources: string[], check = 'CKV_AWS_18') => tmp('s.yaml', `suppressions:\n  - check: ${check}\n    resources: ${JSON.stringify(resources)}\n    reason: "the access-log target cannot log into itself"\n`);

  test('an unsuppressed failure exits 1', () => {
    const r = run(PY, [REPORT, fakeReport(), tmp('s.yaml', 'suppressions: []\n')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED checks:\n\s+CKV_AWS_18\s+data:aws_s3_bucket\.input_bucket_ABC/);
  });

  test('a matching (check, stack, address) suppression exits 0 and prints the reason', () => {
    const r = run(PY, [REPORT, fakeReport(), suppress(['data:aws_s3_bucket.input_bucket*'])]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/CKV_AWS_18: the access-log target cannot log into itself\n\s+data:aws_s3_bucket\.input_bucket_ABC/);
  });

  test.each([
    ['another stack', ['security-baseline:aws_s3_bucket.input_bucket*'], 'CKV_AWS_18'],
    ['another resource', ['data:aws_s3_bucket.reports*'], 'CKV_AWS_18'],
    ['another check', ['data:aws_s3_bucket.input_bucket*'], 'CKV_AWS_144'],
  ])('a suppression for %s does not apply', (_n, resources, check) => {
    const r = run(PY, [REPORT, fakeReport(), suppress(resources, check)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/matched nothing/);
  });

  test.each([
    ['no reason', 'suppressions:\n  - check: CKV_AWS_18\n    resources: ["data:*"]\n', /reason: must explain why/],
    ['no resources', 'suppressions:\n  - check: CKV_AWS_18\n    reason: "a long enough reason for this"\n', /resources: must be a non-empty list/],
    ['bad check id', 'suppressions:\n  - check: S3_LOGGING\n    resources: ["data:*"]\n    reason: "a long enough reason for this"\n', /check: must be a checkov check id/],
  ])('a suppression with %s is rejected (exit 2)', (_n, yaml, message) => {
    const r = run(PY, [REPORT, fakeReport(), tmp('s.yaml', yaml)]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(message);
  });

  test('the checked-in suppressions file is well-formed and every entry has a reason', () => {
    const r = run(PY, [REPORT, fakeReport('CKV_AWS_999'), path.join(ROOT, 'scripts', 'checkov', 'suppressions.yaml')]);
    expect(r.code).toBe(1); // the fake failure is not suppressed, but the file parsed (exit 2 otherwise)
    expect(r.out).not.toMatch(/scan: /);
  });
});
