/**
 * The bounded, scrubbed message helper every handler uses for text it stores or logs, and the typed
 * errors built on it.
 */
import { boundedJson, errorSummary, MAX_MESSAGE_BYTES, safeKey, safeText, truncateUtf8, WITHHELD } from '../../lambda-src/shared/safe-text';
import { classifyError, PermanentError, RetryableError } from '../../lambda-src/shared/errors';

// The card numbers of the detector's contract; the last four pass only with the rewritten detector.
const PAN_TEXTS = [
  'card 4111111111111111 ref',
  'card 4111 1111 1111 1111',
  'card 4111-1111-1111-1111',
  'card 4111.1111.1111.1111',
  'card 4111/1111/1111/1111',
  'card 4111\u00a01111\u00a01111\u00a01111',
  'ref 2026 4111 1111 1111 1111',
];

describe('safeText', () => {
  it.each(PAN_TEXTS)('withholds %j whole', (text) => {
    expect(safeText(text)).toBe(WITHHELD);
    expect(safeText(`${'x'.repeat(5000)} ${text}`)).toBe(WITHHELD); // found even past the cut
    expect(safeKey(`payments/${text}.json`)).toBe(WITHHELD);
  });

  it('keeps ordinary text, replaces control characters, drops empty values', () => {
    expect(safeText('Essential container in task exited')).toBe('Essential container in task exited');
    expect(safeText('a\nb\u0000c')).toBe('a b c');
    expect(safeText('')).toBeUndefined();
    expect(safeText(undefined)).toBeUndefined();
    expect(safeText(42)).toBe('42');
  });

  it('caps at 1 KB of UTF-8 without splitting a character, marking the cut', () => {
    const huge = 'é'.repeat(10_000_000); // 20 MB of UTF-8
    const out = safeText(huge)!;
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(out.endsWith('…[truncated]')).toBe(true);
    expect(out).not.toContain('\ufffd');
    expect(truncateUtf8('short', 10)).toBe('short');
  });
});

describe('boundedJson', () => {
  it('keeps a 19 MB reason within the budget, valid JSON, card numbers withheld everywhere', () => {
    const details = { reason: 'x'.repeat(19 * 1024 * 1024), key: 'in/4111.1111.1111.1111.csv', nested: { list: ['ok', '4111111111111111'] }, n: 3 };
    const text = boundedJson(details, 16 * 1024);
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(16 * 1024);
    const parsed = JSON.parse(text);
    expect(parsed.n).toBe(3);
    expect(parsed.nested.list).toEqual(['ok', WITHHELD]);
    expect(text).not.toMatch(/4111/);
    expect(parsed.key).toBe(WITHHELD); // passes once the detector reads dotted numbers
  });

  it('falls back to a marker when even short strings do not fit', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'y'.repeat(5000)]));
    const text = boundedJson(many, 1024);
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(1024);
    expect(() => JSON.parse(text)).not.toThrow();
  });
});

describe('typed errors and classifyError', () => {
  it('bound and scrub every message', () => {
    expect(new PermanentError(`bad ${'z'.repeat(50_000)}`).message.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(new RetryableError('id 4111 1111 1111 1111').message).toBe(WITHHELD);
  });

  it('reduces database errors (which quote values) to their code', () => {
    const dup = Object.assign(new Error("Duplicate entry '4111111111111111' for key 'PRIMARY'"), { code: 'ER_DUP_ENTRY', sqlMessage: "Duplicate entry '4111111111111111' for key 'PRIMARY'" });
    const e = classifyError(dup, 'insert');
    expect(e.message).toBe('insert: Error (ER_DUP_ENTRY)');
    expect(errorSummary(dup)).toEqual({ name: 'Error', code: 'ER_DUP_ENTRY' });
  });

  it('keeps an SDK message short and scrubbed', () => {
    const e = classifyError(Object.assign(new Error(`value ${'v'.repeat(5000)}`), { name: 'ValidationException' }), 'PutItem');
    expect(e.name).toBe('PermanentError');
    expect(e.message.startsWith('PutItem: ValidationException: value vvv')).toBe(true);
    expect(e.message.length).toBeLessThan(400);
  });
});
