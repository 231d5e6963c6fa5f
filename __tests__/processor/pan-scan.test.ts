/**
 * Every text field stored in accepted.jsonl reaches the domain card-number detector as text, not as
 * the processor's internal UTF-8 byte string. The detector is replaced here by one that also knows
 * full-width digits (U+FF10–FF19): a detector that looks beyond ASCII must see the decoded text.
 */
const FULLWIDTH_RUN = /[\uFF10-\uFF19]{13,19}/;

jest.doMock('../../domain/pan', () => {
  const actual = jest.requireActual('../../domain/pan');
  return {
    ...actual,
    containsPanRange: (s: string, start: number, end: number) => actual.containsPanRange(s, start, end) || FULLWIDTH_RUN.test(s.slice(start, end)),
  };
});

const lines = (...l: string[]) => l.join('\n') + '\n';

describe('card-number scan of stored text', () => {
  it('scans non-ASCII free text decoded, on the plain and the quoted CSV path and in JSON Lines', async () => {
    const { HEADER, processText, row } = await import('./local-helpers');
    const pan = '４１１１１１１１１１１１１１１１'; // 4111 1111 1111 1111 in full-width digits
    const csv = await processText(lines(HEADER, row('T1', { counterparty: `card ${pan}` }), row('T2', { counterparty: `"card, ${pan}"` }), row('T3', { counterparty: 'Müller' })));
    expect(csv.rejects).toEqual([
      { line: 2, reason: 'PAN_DETECTED', field: 'counterparty' },
      { line: 3, reason: 'PAN_DETECTED', field: 'counterparty' },
    ]);
    expect(csv.accepted.map((r) => r.transactionId)).toEqual(['T3']);
    expect(csv.acceptedRaw + csv.rejectsRaw).not.toContain(pan);

    const rec = { transactionId: 'J1', accountId: 'A1', entityId: 'BANK-1', amount: '1.00', currency: 'USD', timestamp: '2026-11-22T10:00:00Z', jurisdiction: 'US', type: 'POSITION', counterparty: `x ${pan}` };
    const json = await processText(lines(JSON.stringify(rec)), 'in.jsonl');
    expect(json.rejects).toEqual([{ line: 1, reason: 'PAN_DETECTED', field: 'counterparty' }]);
  });
});
