/**
 * The CSV fast path writes accepted records byte by byte from the input block (accepted-writer.ts,
 * byte-out.ts); the JSON Lines path serialises the domain's `toOutputRecord` with JSON.stringify. The
 * same records through both paths must give byte-identical accepted.jsonl, which pins the hand-written
 * writer (word-at-a-time copies, digit output, escaping, buffer hand-off) to the reference serialiser.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generate } from '../../scripts/generate-transactions';
import { HEADER, processFile, row, tempDir } from './local-helpers';

/** Hand-made records that exercise field lengths around the 4-byte copy steps, escaping and non-ASCII. */
function extraRecords(): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const base = (i: number): Record<string, string> => {
    const values = row(`EXTRA-${i}`).split(',');
    return Object.fromEntries(HEADER.split(',').map((c, k) => [c, values[k]]));
  };
  for (let len = 1; len <= 34; len++) {
    out.push({ ...base(len), accountId: 'A'.repeat(len), entityId: `ENT-${'X'.repeat(len)}`, amount: String(len) + '.5', currency: len % 2 ? 'USD' : 'JPY', cardLast4: len % 3 ? '' : '1234' });
    if (out[out.length - 1].currency === 'JPY') out[out.length - 1].amount = String(len * 1000);
  }
  out.push({ ...base(100), counterparty: 'Back\\slash \\\\ twice' });
  out.push({ ...base(101), counterparty: 'Müller & Söhne — Zürich 東京' });
  out.push({ ...base(102), counterparty: '' });
  out.push({ ...base(103), counterparty: 'x'.repeat(140) });
  out.push({ ...base(104), transactionId: 'EXTRA-' + 'T'.repeat(58), amount: '999999.99' });
  out.push({ ...base(105), amount: '0.01' });
  return out;
}

describe('accepted writer', () => {
  it('writes the same bytes from CSV as the reference JSON serialiser does from JSON Lines', async () => {
    const dir = tempDir();
    const csv = path.join(dir, 'in.csv');
    const jsonl = path.join(dir, 'in.jsonl');
    // Bad kinds both formats express the same way; structural CSV errors have no JSON counterpart.
    const kinds = ['amount', 'currency', 'pan', 'duplicate', 'timestamp'] as const;
    await generate({ count: 20_000, out: csv, seed: 5, badShare: 0.05, kinds });
    await generate({ count: 20_000, out: jsonl, seed: 5, badShare: 0.05, kinds, format: 'jsonl' });
    const extra = extraRecords();
    fs.appendFileSync(csv, extra.map((r) => HEADER.split(',').map((c) => r[c]).join(',') + '\n').join(''));
    fs.appendFileSync(
      jsonl,
      extra.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ''))) + '\n').join(''),
    );

    const fromCsv = await processFile(csv, undefined, path.join(dir, 'out-csv'));
    const fromJson = await processFile(jsonl, undefined, path.join(dir, 'out-jsonl'));

    expect(fromCsv.summary.counts.accepted).toBeGreaterThan(18_000);
    expect(fromCsv.accepted.filter((r) => r.transactionId.startsWith('EXTRA-'))).toHaveLength(extra.length);
    expect(fromCsv.summary.counts).toEqual(fromJson.summary.counts);
    expect(Buffer.compare(fs.readFileSync(path.join(fromCsv.dir, 'accepted.jsonl')), fs.readFileSync(path.join(fromJson.dir, 'accepted.jsonl')))).toBe(0);
    expect(fromCsv.summary.totals).toEqual(fromJson.summary.totals);
  });
});
