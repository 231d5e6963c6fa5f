/**
 * External read access to reports, from the synthesized policies: every bucket and key policy of every
 * stack is walked, and each statement that admits a principal outside this account must be one of the
 * configured s3-access principals, on exactly its own jurisdiction's prefix (bucket) or only through S3
 * for the reports bucket (key). With VPC-endpoint pinning, report-deliver (outside the VPC) and the
 * regulators may read reports/* from outside the endpoint and nothing else; only report-validate may tag.
 */
import { configProblemsOf as problems, rawConfig, synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { parseConfig, placeholderFindings } from '../../stacks/config';
import { Json, PARTITION, Statement } from '../../test-support/terraform-json';

const arr = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const US_ROLE = 'arn:aws:iam::444455556666:role/regulator/us-reader';
const EU_ACCOUNT = '777788889999';
const OWN_ACCOUNT = '${data.aws_caller_identity.caller.account_id}';
const usRole = `arn:${PARTITION}:iam::444455556666:role/regulator/us-reader`;
const euRoot = `arn:${PARTITION}:iam::${EU_ACCOUNT}:root`;

// US: an s3-access role (also UK's reader); EU: an attachment recipient with an account as its
// over-the-cap route; APAC: attachment only (no principal, no grant).
const cfg = testConfig({
  security: { objectLock: true, pinBucketsToVpcEndpoint: true },
  reporting: {
    recipients: {
      EU: [{ email: 'esma-reports@example.eu', mode: 'attachment', principalArn: EU_ACCOUNT }],
      US: [
        { email: 'sec-reports@example.gov', mode: 'attachment' },
        { email: 'cat-reports@example.gov', mode: 's3-access', principalArn: US_ROLE },
      ],
      UK: [{ email: 'fca-reports@example.uk', mode: 's3-access', principalArn: US_ROLE }],
      APAC: 'apac-regulatory@example.com',
    },
  },
});
const synth = synthPlatform(cfg);
/** Expected grants: principal -> jurisdictions. */
const EXPECTED: Record<string, string[]> = { [usRole]: ['UK', 'US'], [euRoot]: ['EU'] };

const policiesOf = (tf: TfJson, type: string, attr: string) => Object.entries(tf.resource?.[type] ?? {})
  .map(([id, r]) => ({ id, r, statements: JSON.parse(String(r[attr])).Statement as Statement[] }));

const reportsBucketId = Object.entries(synth.tf.data.resource!.aws_s3_bucket).find(([, b]) => String(b.bucket).includes('-reports-'))![0];
const reportsArn = `\${aws_s3_bucket.${reportsBucketId}.arn}`;
const reportsBucketPolicy = policiesOf(synth.tf.data, 'aws_s3_bucket_policy', 'policy').find((p) => p.r.bucket === `\${aws_s3_bucket.${reportsBucketId}.id}`)!.statements;

/**
 * AWS principals of a statement that are not this account's: neither built on the deploying account
 * (root, roles by name) nor a reference to a role the platform creates (`${aws_iam_role...}`, remote state).
 */
function externalPrincipals(s: Statement): string[] {
  if (s.Principal === undefined || s.Principal === '*') return [];
  return arr<string>(s.Principal.AWS).filter((p) => !p.includes(OWN_ACCOUNT) && !/^\$\{(aws_iam_role\.|data\.terraform_remote_state\.)[^}]*\}$/.test(p));
}

describe('every external grant is a configured principal on its own prefix', () => {
  test('bucket policies (all stacks): s3:GetObject/GetObjectVersion on exactly reports/<its jurisdiction>/* of the reports bucket', () => {
    const granted: Record<string, string[]> = {};
    for (const [stack, tf] of Object.entries(synth.tf)) {
      for (const { statements } of policiesOf(tf, 'aws_s3_bucket_policy', 'policy')) {
        for (const s of statements.filter((st) => st.Effect === 'Allow')) {
          for (const p of externalPrincipals(s)) {
            expect({ stack, p, known: p in EXPECTED }).toEqual({ stack, p, known: true });
            expect(arr(s.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
            expect(s.Condition).toBeUndefined();
            expect(s.NotResource).toBeUndefined();
            const resources = arr(s.Resource);
            expect(resources).toHaveLength(1);
            const m = new RegExp(`^${reportsArn.replace(/[$.{}]/g, '\\$&')}/reports/([A-Z]+)/\\*$`).exec(resources[0]);
            expect(m).not.toBeNull();
            (granted[p] ??= []).push(m![1]);
          }
        }
      }
    }
    expect(Object.fromEntries(Object.entries(granted).map(([p, js]) => [p, js.sort()]))).toEqual(EXPECTED);
  });

  test('key policies (all stacks): external principals only kms:Decrypt via S3 in the region, for the reports bucket only', () => {
    const seen = new Set<string>();
    for (const [stack, tf] of Object.entries(synth.tf)) {
      for (const { statements } of policiesOf(tf, 'aws_kms_key', 'policy')) {
        for (const s of statements.filter((st) => st.Effect === 'Allow')) {
          for (const p of externalPrincipals(s)) {
            expect({ stack, p, known: p in EXPECTED }).toEqual({ stack, p, known: true });
            seen.add(p);
            expect(arr(s.Action)).toEqual(['kms:Decrypt']);
            expect(s.Condition).toEqual({
              StringEquals: {
                'kms:ViaService': `s3.${cfg.region}.amazonaws.com`,
                'kms:EncryptionContext:aws:s3:arn': `arn:${PARTITION}:s3:::finbatch-dev-reports-${OWN_ACCOUNT}`,
              },
            });
            expect(arr(s.Principal.AWS)).toHaveLength(1);
          }
        }
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(EXPECTED).sort());
    // The context names the reports bucket the data stack creates.
    expect(synth.tf.data.resource!.aws_s3_bucket[reportsBucketId].bucket).toBe(`finbatch-dev-reports-${OWN_ACCOUNT}`);
  });

  test('without principals in the config there is no external grant at all', () => {
    const plain = synthPlatform(testConfig({ reporting: { recipients: { EU: 'esma-reports@example.eu', US: 'sec-reports@example.gov', UK: 'fca-reports@example.uk', APAC: 'apac-regulatory@example.com' } } }));
    for (const tf of Object.values(plain.tf)) {
      for (const [type, attr] of [['aws_s3_bucket_policy', 'policy'], ['aws_kms_key', 'policy']]) {
        for (const { statements } of policiesOf(tf, type, attr)) {
          expect(statements.flatMap((s) => (s.Effect === 'Allow' ? externalPrincipals(s) : []))).toEqual([]);
        }
      }
    }
  });
});

// ---- a small evaluator of the reports bucket's Deny statements for a request from outside the endpoint
interface Request { action: string; object: string; principalArn: string; account: string }
const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

function conditionHolds(cond: Json | undefined, req: Request): boolean {
  for (const [op, keys] of Object.entries(cond ?? {})) {
    for (const [key, value] of Object.entries(keys as Json)) {
      const values = arr<string>(value as string | string[]).map(String);
      let holds: boolean;
      if (op === 'StringNotEquals' && key === 'aws:sourceVpce') holds = true; // not through the endpoint
      else if (op === 'StringNotEquals' && key === 'aws:PrincipalAccount') holds = !values.includes(req.account);
      else if (op === 'ArnNotEquals' && key === 'aws:PrincipalArn') holds = !values.includes(req.principalArn);
      else if (op === 'Bool' && key === 'aws:PrincipalIsAWSService') holds = values[0] === 'false';
      else if (op === 'BoolIfExists' && key === 'aws:ViaAWSService') holds = values[0] === 'false';
      else if (op === 'Bool' && key === 'aws:SecureTransport') holds = false; // requests use TLS 1.2+
      else if (op === 'NumericLessThan' && key === 's3:TlsVersion') holds = false;
      else if (op === 'StringNotEqualsIfExists') holds = false; // encryption headers: PutObject only
      else throw new Error(`evaluator does not know ${op} ${key}`);
      if (!holds) return false;
    }
  }
  return true;
}

/** Whether some Deny of the reports bucket policy matches the request. */
function denied(req: Request): boolean {
  return reportsBucketPolicy.filter((s) => s.Effect === 'Deny').some((s) => {
    const actions = arr(s.Action);
    if (!actions.includes(req.action) && !actions.includes('s3:*')) return false;
    const resource = `${reportsArn}/${req.object}`;
    const inResource = s.Resource !== undefined ? arr(s.Resource).some((r) => glob(r).test(resource)) : !arr(s.NotResource).some((r) => glob(r).test(resource));
    return inResource && conditionHolds(s.Condition, req);
  });
}

describe('VPC-endpoint pin and tagging on the reports bucket', () => {
  const deliverRole = `arn:${PARTITION}:iam::${OWN_ACCOUNT}:role/finbatch-dev-report-deliver-role`;
  const validateRole = `arn:${PARTITION}:iam::${OWN_ACCOUNT}:role/finbatch-dev-report-validate-role`;
  const own = (principalArn: string) => ({ principalArn, account: OWN_ACCOUNT });
  const us = { principalArn: usRole, account: '444455556666' };
  const euUser = { principalArn: `arn:${PARTITION}:iam::${EU_ACCOUNT}:role/anything`, account: EU_ACCOUNT };

  test('the reports bucket policy shows the statements this file reasons about', () => {
    expect(reportsBucketPolicy.map((s) => s.Sid)).toEqual(expect.arrayContaining([
      'DenyDataAccessOutsideVpce', 'DenyReadsOutsideVpce', 'DenyPrefixReadsOutsideVpceExceptReaders', 'DenyWritesOutsideVpce', 'DenyTaggingExceptReportValidate',
    ]));
  });

  test.each(['s3:GetObject', 's3:GetObjectVersion'])('%s outside the endpoint: deliver and the configured readers under reports/ only', (action) => {
    expect(denied({ action, object: 'reports/US/2026-11-23/X.json', ...own(deliverRole) })).toBe(false);
    expect(denied({ action, object: 'reports/US/2026-11-23/X.json', ...us })).toBe(false);
    expect(denied({ action, object: 'reports/EU/2026-11-23/X.json', ...euUser })).toBe(false);
    // Outside reports/ the pin holds for all of them.
    for (const who of [own(deliverRole), us, euUser]) expect(denied({ action, object: 'results/run/manifest.json', ...who })).toBe(true);
    // Nobody else is exempt.
    expect(denied({ action, object: 'reports/US/2026-11-23/X.json', ...own(validateRole) })).toBe(true);
    expect(denied({ action, object: 'reports/US/2026-11-23/X.json', principalArn: 'arn:aws:iam::123412341234:role/x', account: '123412341234' })).toBe(true);
  });

  test('deletes stay pinned for everybody', () => {
    for (const who of [own(deliverRole), us, euUser]) {
      expect(denied({ action: 's3:DeleteObject', object: 'reports/US/2026-11-23/X.json', ...who })).toBe(true);
      expect(denied({ action: 's3:DeleteObjectVersion', object: 'reports/US/2026-11-23/X.json', ...who })).toBe(true);
    }
  });

  test.each(['s3:PutObjectTagging', 's3:PutObjectVersionTagging', 's3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging'])('%s: only report-validate', (action) => {
    // (through the endpoint or not: the tagging Deny has no endpoint condition)
    const tagDeny = reportsBucketPolicy.find((s) => s.Sid === 'DenyTaggingExceptReportValidate')!;
    expect(arr(tagDeny.Action)).toContain(action);
    expect(tagDeny.Principal).toBe('*');
    expect(tagDeny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': validateRole } });
    expect(arr(tagDeny.Resource)).toEqual([`${reportsArn}/*`]);
    expect(conditionHolds(tagDeny.Condition, { action, object: 'reports/x', ...own(validateRole) })).toBe(false);
    for (const who of [own(deliverRole), us, own(`arn:${PARTITION}:iam::${OWN_ACCOUNT}:role/admin`)]) {
      expect(conditionHolds(tagDeny.Condition, { action, object: 'reports/x', ...who })).toBe(true);
    }
  });
});

describe('recipient config', () => {
  const withRecipients = (recipients: unknown, region?: string) => {
    const raw = rawConfig('dev') as Json;
    raw.reporting.recipients = recipients;
    if (region) {
      raw.region = region;
      raw.network.zoneNames = ['a', 'b', 'c'].slice(0, raw.network.azCount).map((z) => `${region}${z}`);
    }
    return raw;
  };

  test('a principal of another partition is a ConfigError line naming it', () => {
    expect(problems(withRecipients({ US: [{ email: 'a@example.gov', mode: 's3-access', principalArn: 'arn:aws-cn:iam::444455556666:role/r' }] })))
      .toEqual([expect.stringMatching(/^reporting\.recipients\.US\.0\.principalArn: is in partition aws-cn, the platform is deployed in aws \(got /)]);
    expect(problems(withRecipients({ US: [{ email: 'a@example.gov', mode: 's3-access', principalArn: 'arn:aws:iam::444455556666:role/r' }] }, 'us-gov-west-1')))
      .toEqual([expect.stringMatching(/^reporting\.recipients\.US\.0\.principalArn: is in partition aws, the platform is deployed in aws-us-gov/)]);
    // A bare account id fits any partition.
    expect(problems(withRecipients({ US: [{ email: 'a@example.gov', mode: 's3-access', principalArn: '444455556666' }] }, 'us-gov-west-1'))).toEqual([]);
  });

  test('bad entries name their path; s3-access needs a principal', () => {
    const found = problems(withRecipients({ US: [{ email: 'a@example.gov', mode: 's3-access' }], EU: [{ email: 'nope', mode: 'fax' }] }));
    expect(found).toHaveLength(3);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^reporting\.recipients\.US\.0\.principalArn: is required for mode s3-access/),
      expect.stringMatching(/^reporting\.recipients\.EU\.0\.email: must be an email address/),
      expect.stringMatching(/^reporting\.recipients\.EU\.0\.mode: /),
    ]));
  });

  test('a recipient list too long for the Lambda environment is refused', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ email: `regulator-${i}-reports-long-address@example.gov`, mode: 's3-access', principalArn: `arn:aws:iam::44445555${String(6000 + i)}:role/a-rather-long-role-path/and-a-long-role-name-${i}` }));
    expect(problems(withRecipients({ US: many, EU: many, UK: many }))).toEqual([expect.stringMatching(/^reporting\.recipients: is \d+ characters as report-deliver's RECIPIENTS_JSON; at most 3000/)]);
  });

  test('principals in placeholder accounts are placeholder findings (errors with PLATFORM_STRICT=1)', () => {
    const c = parseConfig(withRecipients({ US: [
      { email: 'cat@regulator.gov', mode: 's3-access', principalArn: 'arn:aws:iam::999999999999:role/REPLACE-ME-reader' },
      { email: 'sec@regulator.gov', mode: 's3-access', principalArn: '123456789012' },
      { email: 'fine@regulator.gov', mode: 's3-access', principalArn: '444455556666' },
    ] }), 'test');
    const findings = placeholderFindings(c).filter((f) => f.startsWith('reporting.recipients'));
    expect(findings).toEqual([
      expect.stringMatching(/^reporting\.recipients\.US\.0\.principalArn: .* uses placeholder account id 999999999999/),
      expect.stringMatching(/^reporting\.recipients\.US\.1\.principalArn: .* uses placeholder account id 123456789012/),
    ]);
  });

  test('every shipped environment shows both delivery modes; prod\'s s3-access principal is an obvious placeholder', () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const c = testConfig({}, env);
      const modes = Object.values(c.reporting.recipients).flatMap((v) => (typeof v === 'string' ? ['attachment'] : v.map((r) => r.mode)));
      expect(new Set(modes)).toEqual(new Set(['attachment', 's3-access']));
      const principals = Object.values(c.reporting.recipients).flatMap((v) => (typeof v === 'string' ? [] : v.flatMap((r) => (r.principalArn ? [r.principalArn] : []))));
      for (const p of principals) {
        expect(p).toMatch(/REPLACE-ME/);
        expect(placeholderFindings(c).some((f) => f.includes(p))).toBe(true);
      }
    }
  });
});
