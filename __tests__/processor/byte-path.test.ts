/**
 * CSV records are split and validated as bytes (RecordProcessor.csvBytes / csvQuoted, with the
 * domain's validateFieldBytes). The text path they replaced is still in the tree as the worker
 * threads' stage (csv-check.ts: splitLine + validateFieldView, quoted lines through csvRecord), so
 * the two are run on the same damaged corpus and must produce the same accepted bytes, rejects,
 * counts, totals and fingerprints.
 */
import { CsvChecker, checkBlock } from '../../processor/src/csv-check';
import { isUtf8 } from 'buffer';
import { MAX_LINE_BYTES, splitInvalidUtf8 } from '../../processor/src/lines';
import { RecordProcessor } from '../../processor/src/record-processor';
import { limitTable } from '../../domain/transaction';
import { cleanRecord, fakePan, rng } from '../../scripts/generate-transactions';

const HEADER = ['transactionId', 'accountId', 'entityId', 'amount', 'currency', 'timestamp', 'counterparty', 'jurisdiction', 'type', 'cardLast4'];

/** Text pieces aimed at the splitter's and the validators' edges (all valid UTF-8: the block path's input). */
const PIECES = [',', '"', '""', '\r', '\\', '"x""y"', '0', '-', '.', 'Z', '+01:00', 'ü', '—', '東', '\t', '\u001f', '\u007f', ' ', 'USD', 'JPY',
  'APAC', 'TX0000000001', '_', '1.005', '00', '12.500', '1000000.01', 'a'.repeat(70), 'é'.repeat(141), '4111 1111 1111 1111', '4111\u00a01111\u00a01111\u00a01111'];

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Lines of a damaged file: clean records, some quoted, some with raw byte-level damage, some repeated. */
function corpus(count: number, seed: number, columns: string[]): string[] {
  const random = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const { rec } = cleanRecord(i, random);
    if (random() < 0.1) rec.counterparty = `${rec.counterparty} ${fakePan(random)}`;
    if (random() < 0.1) rec.transactionId = lines.length > 0 && random() < 0.5 ? `TX${String(Math.floor(random() * i)).padStart(10, '0')}` : rec.transactionId;
    let line = columns.map((c) => (random() < 0.15 ? `"${rec[c].replace(/"/g, '""')}"` : csvField(rec[c]))).join(',');
    const damage = Math.floor(random() * 3);
    for (let d = 0; d < damage; d++) {
      const at = Math.floor(random() * (line.length + 1));
      const op = random();
      if (op < 0.5) line = line.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + line.slice(at);
      else if (op < 0.8) line = line.slice(0, at) + line.slice(at + 1 + Math.floor(random() * 3));
      else {
        const f = line.split(',');
        const k = Math.floor(random() * f.length);
        f[k] = random() < 0.5 ? `"${f[k].replace(/"/g, '""')}"` : '';
        line = f.join(',');
      }
    }
    lines.push(line);
    if (random() < 0.01) lines.push('');
    if (random() < 0.002) lines.push(`${line},${'z'.repeat(MAX_LINE_BYTES)}`);
    // Long quoted lines: a few of them fill the batch's unescape arena before the batch is full.
    if (random() < 0.01) lines.push(columns.map((c) => (c === 'counterparty' ? `"${'q""'.repeat(5_000 + Math.floor(random() * 15_000))}"` : csvField(rec[c]))).join(','));
  }
  return lines;
}

function outputs(p: RecordProcessor) {
  return {
    accepted: p.acceptedOut.take().toString('latin1'),
    rejects: p.rejectsOut,
    counts: [p.lineNo, p.read, p.accepted, p.rejected, p.duplicates],
    byReason: p.byReason,
    totals: [...p.totals.accountLines()].join(''),
    groups: p.totals.groupJson(),
    fingerprints: Buffer.concat([...p.index.chunks((a) => p.totals.accountKey(a), p.totals.accountCount)]).toString('latin1'),
  };
}

describe('CSV byte path', () => {
  it.each([
    ['header order, LF', HEADER, '\n'],
    ['shuffled header without cardLast4, CRLF', ['counterparty', 'type', 'amount', 'timestamp', 'accountId', 'jurisdiction', 'currency', 'transactionId', 'entityId'], '\r\n'],
  ])('gives what the text path gives on a damaged corpus: %s', (_name, columns, eol) => {
    const lines = corpus(30_000, columns.length, columns);
    const block = Buffer.from(lines.join(eol) + eol, 'utf8');
    const header = Buffer.from(columns.join(',') + eol, 'utf8');

    const bytes = new RecordProcessor();
    bytes.processBytes(header);
    bytes.processBytes(block);

    const text = new RecordProcessor();
    text.processText(header.toString('latin1'), header);
    const checker = new CsvChecker(text.header!, limitTable());
    const latin1 = block.toString('latin1');
    text.processChecked(latin1, block, checkBlock(checker, latin1, MAX_LINE_BYTES, block, true));

    const [a, b] = [outputs(bytes), outputs(text)];
    expect(a.counts).toEqual(b.counts);
    expect(a.byReason).toEqual(b.byReason);
    expect(a.rejects === b.rejects).toBe(true);
    expect(a.accepted === b.accepted).toBe(true);
    expect(a.totals === b.totals).toBe(true);
    expect(a.groups).toEqual(b.groups);
    expect(a.fingerprints === b.fingerprints).toBe(true);
    // The corpus reaches the structural reasons, quoted records and both outcomes of the card-number check.
    for (const r of ['COLUMN_COUNT', 'BROKEN_QUOTE', 'BLANK_LINE', 'LINE_TOO_LONG', 'PAN_DETECTED', 'DUPLICATE', 'COUNTERPARTY_INVALID']) expect([r, (a.byReason[r] ?? 0) > 5]).toEqual([r, true]);
    expect(a.counts[2]).toBeGreaterThan(10_000);
    expect(a.accepted).toContain('\\"');
  });
});

describe('splitInvalidUtf8', () => {
  it('hands on the valid lines in runs and reports each invalid line, in order, as a line-by-line check would', () => {
    const random = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const lines: Buffer[] = [];
      const count = 1 + Math.floor(random() * 300);
      const share = [0, 0.005, 0.05, 0.5, 1][trial % 5];
      for (let i = 0; i < count; i++) {
        const text = Buffer.from(`line ${i} ü ${'x'.repeat(Math.floor(random() * 40))}`, 'utf8');
        // Invalid: a lone continuation byte, a truncated sequence, or an overlong encoding.
        const bad = [Buffer.from([0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xc0, 0xaf])][i % 3];
        lines.push(Buffer.concat([text, random() < share ? bad : Buffer.alloc(0), Buffer.from(i === count - 1 && trial % 2 ? '' : '\n')]));
      }
      const block = Buffer.concat(lines);
      const expected: string[] = [];
      let run: Buffer[] = [];
      for (const line of lines) {
        if (isUtf8(line)) {
          run.push(line);
          continue;
        }
        if (run.length) expected.push(Buffer.concat(run).toString('latin1'));
        run = [];
        expected.push('<invalid>');
      }
      if (run.length) expected.push(Buffer.concat(run).toString('latin1'));
      const got: string[] = [];
      // Adjacent valid runs are merged: where a run is cut does not matter to the record stage.
      let open = false;
      splitInvalidUtf8(
        block,
        0,
        block.length,
        (r) => {
          if (open) got[got.length - 1] += r.toString('latin1');
          else got.push(r.toString('latin1'));
          open = true;
        },
        () => {
          got.push('<invalid>');
          open = false;
        },
      );
      expect(got).toEqual(expected);
    }
  });
});
