/**
 * CSV records are split, validated and encoded as bytes (csv-rows.ts), on the main thread or on a
 * worker thread, and applied in input order by RecordProcessor. On the same damaged corpus (lines that
 * are not UTF-8 included) every way a block can go must give the same accepted bytes, rejects,
 * counts, totals and fingerprints: checked and applied here (processBytes, also after splitting the
 * block around its invalid lines), checked and encoded elsewhere (applyChecked with the encoded
 * lines), and checked elsewhere but encoded while applied (applyChecked without them). All are also
 * held to a plain line-by-line reading of the same text (test-support/csv-reference.ts).
 */
import { isUtf8 } from 'buffer';
import { CsvRowChecker } from '../../processor/src/csv-rows';
import { MAX_LINE_BYTES, splitInvalidUtf8 } from '../../processor/src/lines';
import { RecordProcessor } from '../../processor/src/record-processor';
import { checkBlock } from '../../processor/src/validate-worker';
import { limitTable } from '../../domain/transaction';
import { cleanRecord, fakePan, rng } from '../../scripts/generate-transactions';
import { referenceCsv } from '../../test-support/csv-reference';

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

/** The block cut at line ends into pieces of about `size` bytes (as the framing hands them on). */
function pieces(block: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < block.length; ) {
    let e = Math.min(block.length, p + size);
    if (e < block.length) {
      const nl = block.indexOf(10, e);
      e = nl < 0 ? block.length : nl + 1;
    }
    out.push(block.subarray(p, e));
    p = e;
  }
  return out;
}

describe('CSV byte path', () => {
  it.each([
    ['header order, LF', HEADER, '\n'],
    ['shuffled header without cardLast4, CRLF', ['counterparty', 'type', 'amount', 'timestamp', 'accountId', 'jurisdiction', 'currency', 'transactionId', 'entityId'], '\r\n'],
  ])('gives the same outputs on every path, and what a line-by-line reading gives, on a damaged corpus: %s', (_name, columns, eol) => {
    const lines = corpus(30_000, columns.length, columns);
    // A few lines that are not UTF-8 (a lone continuation byte, a truncated sequence, an overlong encoding).
    const damage = rng(99);
    const bad = [Buffer.from([0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xc0, 0xaf])];
    const block = Buffer.concat(
      lines.map((line) => {
        const bytes = Buffer.from(line + eol, 'utf8');
        if (damage() >= 0.004) return bytes;
        const at = Math.floor(damage() * (bytes.length - eol.length));
        return Buffer.concat([bytes.subarray(0, at), bad[Math.floor(damage() * 3)], bytes.subarray(at)]);
      }),
    );
    const header = Buffer.from(columns.join(',') + eol, 'utf8');
    const blocks = pieces(block, 200_000);
    expect(blocks.length).toBeGreaterThan(3);
    expect(blocks.filter((b) => !isUtf8(b)).length).toBeGreaterThan(1);

    // On this thread, as the pipeline does (lines that are not UTF-8 refused one by one by the checker).
    const here = new RecordProcessor();
    here.processBytes(header);
    for (const b of blocks) here.processBytes(b);
    // The same, with each block first split around its invalid lines (how other formats are read).
    const split = new RecordProcessor();
    split.processBytes(header);
    for (const b of blocks) {
      if (isUtf8(b)) split.processBytes(b);
      else splitInvalidUtf8(b, 0, b.length, (run) => split.processBytes(run), () => split.rejectInvalidUtf8());
    }

    // As a worker would: each block checked by its own checker, then applied in order, with the
    // worker's encoded lines or encoded while applied.
    const elsewhere = [true, false].map((encode) => {
      const p = new RecordProcessor();
      p.processBytes(header);
      const checker = new CsvRowChecker(p.header!, limitTable(), 64, 1 << 17);
      for (const b of blocks) p.applyChecked(b, checkBlock(checker, b, encode));
      return p;
    });

    const [a, ...others] = [here, split, ...elsewhere].map(outputs);
    for (const other of others) {
      expect(other.counts).toEqual(a.counts);
      expect(other.byReason).toEqual(a.byReason);
      expect(other.rejects === a.rejects).toBe(true);
      expect(other.accepted === a.accepted).toBe(true);
      expect(other.totals === a.totals).toBe(true);
      expect(other.groups).toEqual(a.groups);
      expect(other.fingerprints === a.fingerprints).toBe(true);
    }

    const ref = referenceCsv(header.toString('utf8').trimEnd(), block.toString('latin1'));
    expect(a.counts).toEqual(ref.counts);
    expect(a.byReason).toEqual(ref.byReason);
    expect(a.rejects === ref.rejects).toBe(true);
    expect(a.accepted === ref.accepted).toBe(true);
    // The corpus reaches the structural reasons, quoted records and both outcomes of the card-number check.
    for (const r of ['COLUMN_COUNT', 'BROKEN_QUOTE', 'BLANK_LINE', 'LINE_TOO_LONG', 'INVALID_UTF8', 'PAN_DETECTED', 'DUPLICATE', 'COUNTERPARTY_INVALID']) expect([r, (a.byReason[r] ?? 0) > 5]).toEqual([r, true]);
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
