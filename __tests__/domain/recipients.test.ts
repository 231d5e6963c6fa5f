import { z } from 'zod';
import {
  attachmentMaxBytesSchema,
  checkAttachmentMaxBytes,
  chooseDelivery,
  DEFAULT_ATTACHMENT_MAX_BYTES,
  encodedAttachmentBytes,
  MAX_ATTACHMENT_BYTES,
  MESSAGE_OVERHEAD_BYTES,
  normalizeRecipients,
  parseAttachmentMaxBytes,
  partitionProblems,
  principalAccountId,
  principalForPolicy,
  principalPartition,
  RecipientConfigError,
  recipientsFor,
  recipientsSchema,
  SES_MAX_MESSAGE_BYTES,
} from '../../domain/reporting/recipients';

const ROLE = 'arn:aws:iam::111122223333:role/regulator/cat-reader';
const problemsOf = (raw: unknown): string[] => {
  try {
    normalizeRecipients(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(RecipientConfigError);
    return (err as RecipientConfigError).problems;
  }
  return [];
};
/** Paths the zod schema flags, written like the pure validator's ("recipients.US.0.email"). */
const zodPaths = (raw: unknown): string[] => {
  const r = recipientsSchema(z).safeParse(raw);
  return r.success ? [] : [...new Set(r.error.issues.map((i) => ['recipients', ...i.path].join('.')))].sort();
};
const pathsOf = (problems: string[]) => [...new Set(problems.map((p) => p.split(':')[0]))].sort();

describe('recipient configuration', () => {
  test('the original form (one address per jurisdiction) is one attachment-mode recipient', () => {
    expect(normalizeRecipients({ EU: 'esma-reports@example.eu', US: 'sec-reports@example.gov' })).toEqual({
      EU: [{ email: 'esma-reports@example.eu', mode: 'attachment' }],
      US: [{ email: 'sec-reports@example.gov', mode: 'attachment' }],
    });
  });

  test('the list form keeps mode and principal; both forms mix', () => {
    const raw = {
      EU: 'esma-reports@example.eu',
      US: [
        { email: 'cat@example.gov', mode: 's3-access', principalArn: ROLE },
        { email: 'copy@example.gov', mode: 'attachment', principalArn: '111122223333' },
      ],
      APAC: [{ email: 'apac@example.sg', mode: 'attachment' }],
    };
    expect(normalizeRecipients(raw)).toEqual({
      EU: [{ email: 'esma-reports@example.eu', mode: 'attachment' }],
      US: raw.US,
      APAC: raw.APAC,
    });
    expect(zodPaths(raw)).toEqual([]);
    // Normalized output is itself valid input (RECIPIENTS_JSON may carry either form).
    expect(normalizeRecipients(normalizeRecipients(raw))).toEqual(normalizeRecipients(raw));
  });

  test.each([
    ['arn:aws:iam::111122223333:root'],
    ['arn:aws-us-gov:iam::111122223333:role/reader'],
    ['arn:aws-cn:iam::111122223333:role/a/b/reader'],
    ['111122223333'],
  ])('accepts the principal %s', (principalArn) => {
    expect(problemsOf({ UK: [{ email: 'fca@example.uk', mode: 's3-access', principalArn }] })).toEqual([]);
    expect(zodPaths({ UK: [{ email: 'fca@example.uk', mode: 's3-access', principalArn }] })).toEqual([]);
  });

  test.each([
    ['arn:aws:iam::111122223333:user/alice'], // users are not delivery principals
    ['arn:aws:sts::111122223333:assumed-role/reader/session'], // a session dies with its credentials
    ['arn:aws-iso:iam::111122223333:role/reader'], // partition not supported
    ['arn:aws:iam::11112222333:role/reader'], // 11 digits
    ['11112222333'],
    ['arn:aws:iam::111122223333:role/'],
    ['arn:aws:iam::111122223333:role/reader\nx'],
    ['*'],
  ])('refuses the principal %j', (principalArn) => {
    const raw = { UK: [{ email: 'fca@example.uk', mode: 's3-access', principalArn }] };
    expect(problemsOf(raw)).toEqual([expect.stringMatching(/^recipients\.UK\.0\.principalArn: must be a 12-digit AWS account id/)]);
    expect(zodPaths(raw)).toEqual(['recipients.UK.0.principalArn']);
  });

  test.each<[string, unknown, string[]]>([
    ['s3-access without a principal', { US: [{ email: 'cat@example.gov', mode: 's3-access' }] }, ['recipients.US.0.principalArn']],
    ['an unknown mode', { US: [{ email: 'cat@example.gov', mode: 'presigned-url' }] }, ['recipients.US.0.mode']],
    ['a bad address (string form)', { EU: 'not-an-address' }, ['recipients.EU']],
    ['a bad address (list form)', { EU: [{ email: 'esma@example.eu\r\nBcc: x@evil.test', mode: 'attachment' }] }, ['recipients.EU.0.email']],
    ['an unknown field', { EU: [{ email: 'esma@example.eu', mode: 'attachment', url: 'https://x' }] }, ['recipients.EU.0']],
    ['an unknown jurisdiction', { MARS: 'a@example.com' }, ['recipients.MARS']],
    ['an empty list', { EU: [] }, ['recipients.EU']],
    ['a number', { EU: 5 }, ['recipients.EU']],
    ['the same address twice', { EU: [{ email: 'a@example.eu', mode: 'attachment' }, { email: 'A@example.eu', mode: 's3-access', principalArn: ROLE }] }, ['recipients.EU.1.email']],
    ['eleven recipients', { EU: Array.from({ length: 11 }, (_, i) => ({ email: `r${i}@example.eu`, mode: 'attachment' })) }, ['recipients.EU']],
  ])('refuses %s, naming the path (pure validator and zod schema agree)', (_name, raw, paths) => {
    const problems = problemsOf(raw);
    expect(pathsOf(problems)).toEqual(paths);
    expect(zodPaths(raw)).toEqual(paths);
  });

  test('every problem is reported at once, without echoing the values', () => {
    const problems = problemsOf({
      EU: 'secret-list@',
      US: [{ email: 'cat@example.gov', mode: 's3-access' }, { email: 'x', mode: 'attachment' }],
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toMatch(/secret-list/);
  });

  test('not an object at all', () => {
    expect(problemsOf('esma@example.eu')).toEqual([expect.stringMatching(/^recipients: must be an object keyed by jurisdiction/)]);
    expect(problemsOf(null)).toHaveLength(1);
    expect(problemsOf([])).toHaveLength(1);
  });

  test('recipientsFor: the jurisdiction list, else the default as one attachment recipient, else none', () => {
    const map = normalizeRecipients({ EU: 'esma@example.eu' });
    expect(recipientsFor(map, 'EU', 'default@example.com')).toEqual([{ email: 'esma@example.eu', mode: 'attachment' }]);
    expect(recipientsFor(map, 'APAC', 'default@example.com')).toEqual([{ email: 'default@example.com', mode: 'attachment' }]);
    expect(recipientsFor(map, 'APAC')).toEqual([]);
    expect(() => recipientsFor(map, 'APAC', 'bad\r\n@example.com')).toThrow(RecipientConfigError);
    // Callers get copies: changing one does not change the configuration.
    recipientsFor(map, 'EU')[0].mode = 's3-access';
    expect(map.EU![0].mode).toBe('attachment');
  });

  test('partitionProblems: a principal of another partition could never be granted access', () => {
    const map = normalizeRecipients({
      US: [
        { email: 'a@example.gov', mode: 's3-access', principalArn: 'arn:aws:iam::111122223333:role/reader' },
        { email: 'b@example.gov', mode: 's3-access', principalArn: '111122223333' },
        { email: 'c@example.gov', mode: 's3-access', principalArn: 'arn:aws-us-gov:iam::111122223333:root' },
      ],
    });
    expect(partitionProblems(map, 'aws-us-gov')).toEqual([
      'recipients.US.0.principalArn: is in partition aws, the platform is deployed in aws-us-gov',
    ]);
    expect(partitionProblems(map, 'aws')).toEqual([
      'recipients.US.2.principalArn: is in partition aws-us-gov, the platform is deployed in aws',
    ]);
  });

  test('principal helpers', () => {
    expect(principalAccountId(ROLE)).toBe('111122223333');
    expect(principalAccountId('444455556666')).toBe('444455556666');
    expect(principalPartition('arn:aws-cn:iam::111122223333:root')).toBe('aws-cn');
    expect(principalPartition('111122223333')).toBeUndefined();
    expect(principalForPolicy('111122223333', 'aws-us-gov')).toBe('arn:aws-us-gov:iam::111122223333:root');
    expect(principalForPolicy(ROLE, 'aws')).toBe(ROLE);
    expect(() => principalForPolicy('arn:aws:iam::111122223333:user/alice', 'aws')).toThrow(/12-digit AWS account id/);
  });
});

describe('attachment cap', () => {
  test('base64 size: 4/3 plus CRLF every 76 characters', () => {
    expect(encodedAttachmentBytes(0)).toBe(0);
    expect(encodedAttachmentBytes(1)).toBe(4 + 2);
    expect(encodedAttachmentBytes(57)).toBe(76 + 2); // exactly one full line
    expect(encodedAttachmentBytes(58)).toBe(80 + 4);
    expect(encodedAttachmentBytes(Buffer.alloc(1000).length)).toBe(Buffer.alloc(1000).toString('base64').length + 2 * Math.ceil(1336 / 76));
  });

  test('the largest cap is the largest report that fits SES with the overhead reserve; the default is far below', () => {
    const budget = SES_MAX_MESSAGE_BYTES - MESSAGE_OVERHEAD_BYTES;
    expect(encodedAttachmentBytes(MAX_ATTACHMENT_BYTES)).toBeLessThanOrEqual(budget);
    expect(encodedAttachmentBytes(MAX_ATTACHMENT_BYTES + 1)).toBeGreaterThan(budget);
    expect(MAX_ATTACHMENT_BYTES).toBe(29_182_875);
    expect(DEFAULT_ATTACHMENT_MAX_BYTES).toBe(10_485_760);
    expect(encodedAttachmentBytes(DEFAULT_ATTACHMENT_MAX_BYTES)).toBe(14_348_938);
  });

  test('env and config values', () => {
    expect(parseAttachmentMaxBytes(undefined)).toBe(DEFAULT_ATTACHMENT_MAX_BYTES);
    expect(parseAttachmentMaxBytes(' ')).toBe(DEFAULT_ATTACHMENT_MAX_BYTES);
    expect(parseAttachmentMaxBytes('5000000')).toBe(5_000_000);
    for (const bad of ['0', '-1', '1e6', '10MB', String(MAX_ATTACHMENT_BYTES + 1), '99999999999']) {
      expect(() => parseAttachmentMaxBytes(bad)).toThrow(/ATTACHMENT_MAX_BYTES: must be a whole number of bytes from 1 to 29182875/);
    }
    expect(() => checkAttachmentMaxBytes(1.5)).toThrow(RecipientConfigError);
    const schema = attachmentMaxBytesSchema(z);
    expect(schema.parse(undefined)).toBe(DEFAULT_ATTACHMENT_MAX_BYTES);
    expect(schema.parse(1_000_000)).toBe(1_000_000);
    expect(schema.safeParse(MAX_ATTACHMENT_BYTES + 1).success).toBe(false);
    expect(schema.safeParse(0).success).toBe(false);
  });
});

describe('chooseDelivery', () => {
  const attach = { email: 'esma@example.eu', mode: 'attachment' as const };
  const s3 = { email: 'cat@example.gov', mode: 's3-access' as const, principalArn: ROLE };

  test('attachment up to and including the cap', () => {
    expect(chooseDelivery(attach, 0, 1000)).toEqual({ mode: 'attachment', requestedMode: 'attachment' });
    expect(chooseDelivery(attach, 1000, 1000)).toEqual({ mode: 'attachment', requestedMode: 'attachment' });
  });

  test('over the cap an attachment recipient falls back to s3-access, with the reason', () => {
    expect(chooseDelivery(attach, 1001, 1000)).toEqual({
      mode: 's3-access',
      requestedMode: 'attachment',
      fallbackReason: 'The report is 1001 bytes, over the attachment limit of 1000 bytes, so it is not attached.',
    });
  });

  test('s3-access stays s3-access at any size, without a fallback reason', () => {
    expect(chooseDelivery(s3, 1, 1000)).toEqual({ mode: 's3-access', requestedMode: 's3-access' });
    expect(chooseDelivery(s3, 10_000, 1000)).toEqual({ mode: 's3-access', requestedMode: 's3-access' });
  });

  test('refuses nonsense sizes and caps', () => {
    expect(() => chooseDelivery(attach, -1, 1000)).toThrow(RangeError);
    expect(() => chooseDelivery(attach, 1.5, 1000)).toThrow(RangeError);
    expect(() => chooseDelivery(attach, 10, 0)).toThrow(/cap: must be a whole number/);
    expect(() => chooseDelivery(attach, 10, MAX_ATTACHMENT_BYTES + 1)).toThrow(/cap: must be a whole number/);
  });
});
