/** Bad-input handling of the pipeline on local files: every case is a counted reject or a clear failure. */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { BadInputError } from '../../processor/src/errors';
import { HEADER, processText, row, tempDir } from './local-helpers';

const lines = (...l: string[]) => l.join('\n') + '\n';

describe('CSV parsing and validation', () => {
  it('accepts valid records and writes the contract output shape', async () => {
    const run = await processText(lines(HEADER, row('T1'), row('T2', { amount: '0.5', counterparty: '"Say ""hi"""', cardLast4: '4242' })));
    expect(run.summary.counts).toMatchObject({ read: 2, accepted: 2, rejected: 0, duplicates: 0 });
    expect(run.accepted[1]).toEqual({
      transactionId: 'T2', accountId: 'ACC-1', entityId: 'BANK-EU-01', amount: '0.50', amountMinor: '50', currency: 'EUR',
      timestamp: '2026-11-22T10:00:00Z', counterparty: 'Say "hi"', jurisdiction: 'EU', type: 'TRANSACTION', cardLast4: '4242',
    });
    expect(run.summary.totals.byCurrency.EUR).toEqual({ count: 2, amount: '10.50', amountMinor: '1050' });
  });

  it('handles quoted fields with commas and doubled quotes', async () => {
    const line = row('T1', { counterparty: '"Wayne Enterprises, ""Inc."""' });
    const run = await processText(lines(HEADER, line));
    expect(run.accepted[0].counterparty).toBe('Wayne Enterprises, "Inc."');
  });

  it('escapes a backslash in free text on both the plain and the quoted path', async () => {
    const run = await processText(lines(HEADER, row('T1', { counterparty: 'A\\B Ü' }), row('T2', { counterparty: '"C\\D, ""E"""' })));
    expect(run.accepted.map((a) => a.counterparty)).toEqual(['A\\B Ü', 'C\\D, "E"']);
    expect(run.acceptedRaw).toContain('"counterparty":"A\\\\B Ü"');
  });

  it('passes non-ASCII text through byte for byte', async () => {
    const run = await processText(lines(HEADER, row('T1', { counterparty: 'Tanaka 商事 Müller' })));
    expect(run.accepted[0].counterparty).toBe('Tanaka 商事 Müller');
  });

  it('counts a record with the wrong column count as COLUMN_COUNT with its line number', async () => {
    const run = await processText(lines(HEADER, row('T1'), row('T2') + ',extra', row('T3').split(',').slice(0, 9).join(',')));
    expect(run.summary.counts).toMatchObject({ read: 3, accepted: 1, rejected: 2 });
    expect(run.rejects).toEqual([{ line: 3, reason: 'COLUMN_COUNT' }, { line: 4, reason: 'COLUMN_COUNT' }]);
  });

  it.each([
    ['an unterminated quote', '"Acme, unterminated'],
    ['a quote inside an unquoted field', 'Ac"me'],
    ['text after a closing quote', '"Acme"x'],
  ])('counts %s as BROKEN_QUOTE', async (_name, counterparty) => {
    const run = await processText(lines(HEADER, row('T1', { counterparty })));
    expect(run.rejects).toEqual([{ line: 2, reason: 'BROKEN_QUOTE' }]);
  });

  it('strips a UTF-8 BOM before the header', async () => {
    const run = await processText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines(HEADER, row('T1')))]));
    expect(run.summary.counts.accepted).toBe(1);
  });

  it('treats CRLF line ends like LF', async () => {
    const run = await processText([HEADER, row('T1'), row('T2', { cardLast4: '1234' })].join('\r\n') + '\r\n');
    expect(run.summary.counts).toMatchObject({ accepted: 2, rejected: 0 });
    expect(run.accepted[1].cardLast4).toBe('1234');
  });

  it('counts blank lines as BLANK_LINE rejects (nothing is dropped silently)', async () => {
    const run = await processText(lines(HEADER, row('T1'), '', row('T2'), '\r'));
    expect(run.summary.counts).toMatchObject({ read: 4, accepted: 2, rejected: 2 });
    expect(run.rejects).toEqual([{ line: 3, reason: 'BLANK_LINE' }, { line: 5, reason: 'BLANK_LINE' }]);
  });

  it('accepts a reordered header', async () => {
    const cols = HEADER.split(',').reverse();
    const values: Record<string, string> = Object.fromEntries(HEADER.split(',').map((c, i) => [c, row('T9').split(',')[i]]));
    const run = await processText(lines(cols.join(','), cols.map((c) => values[c]).join(',')));
    expect(run.accepted[0]).toMatchObject({ transactionId: 'T9', amount: '10.00', jurisdiction: 'EU' });
  });

  it('accepts a header without the optional columns', async () => {
    const run = await processText(lines('transactionId,accountId,entityId,amount,currency,timestamp,jurisdiction,type', 'T1,A1,BANK-1,5,JPY,2026-11-22T10:00:00Z,APAC,MARGIN'));
    expect(run.accepted[0]).toEqual({ transactionId: 'T1', accountId: 'A1', entityId: 'BANK-1', amount: '5', amountMinor: '5', currency: 'JPY', timestamp: '2026-11-22T10:00:00Z', jurisdiction: 'APAC', type: 'MARGIN' });
  });

  it.each([
    ['a missing header', lines(row('T1')), 'HEADER_MISSING'],
    ['an unknown column', lines(HEADER + ',note', row('T1') + ',x'), 'HEADER_UNKNOWN_COLUMN'],
    ['a missing required column', lines(HEADER.replace('amount,', ''), 'x'), 'HEADER_MISSING_COLUMN'],
    ['a duplicated column', lines(HEADER + ',amount', 'x'), 'HEADER_DUPLICATE_COLUMN'],
    ['an empty first line', lines('', HEADER), 'HEADER_MISSING'],
    ['a zero-byte file', '', 'INPUT_EMPTY'],
  ])('fails the job on %s (exit 2) and publishes nothing', async (_name, content, code) => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    fs.writeFileSync(file, content);
    const { processFile } = await import('./local-helpers');
    const err = await processFile(file, undefined, path.join(dir, 'out')).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err).toMatchObject({ code, exitCode: 2 });
    const outDir = path.join(dir, 'out', 'shard-0-of-1');
    expect(fs.existsSync(outDir) ? fs.readdirSync(outDir) : []).toEqual([]);
  });

  it('names unknown columns by position and never echoes their text', async () => {
    const err = await processText(lines(HEADER + ',memo,4111111111111111', 'x')).catch((e) => e);
    expect(err.message).toContain('column(s) 11, 12 of 12');
    expect(err.message).not.toContain('memo');
    expect(err.message).not.toContain('4111111111111111');
  });

  it('succeeds on a header-only file with zero records', async () => {
    const run = await processText(lines(HEADER));
    expect(run.summary.counts).toMatchObject({ read: 0, accepted: 0 });
    expect(run.acceptedRaw).toBe('');
  });

  it('counts invalid UTF-8 lines as INVALID_UTF8 and keeps the rest', async () => {
    const bad = Buffer.concat([Buffer.from('T2,ACC-1,BANK-EU-01,10.00,EUR,2026-11-22T10:00:00Z,Ac'), Buffer.from([0xc3, 0x28]), Buffer.from(',EU,TRANSACTION,\n')]);
    const run = await processText(Buffer.concat([Buffer.from(lines(HEADER, row('T1'))), bad, Buffer.from(lines(row('T3')))]));
    expect(run.summary.counts).toMatchObject({ read: 3, accepted: 2, rejected: 1 });
    expect(run.rejects).toEqual([{ line: 3, reason: 'INVALID_UTF8' }]);
  });

  it.each([
    ['1e3', 'EUR', 'AMOUNT_FORMAT'],
    ['-0', 'EUR', 'AMOUNT_NOT_POSITIVE'],
    ['12.345', 'USD', 'AMOUNT_PRECISION'],
    ['1.5', 'JPY', 'AMOUNT_PRECISION'],
    ['1000000.01', 'GBP', 'AMOUNT_OVER_LIMIT'],
    ['0', 'EUR', 'AMOUNT_NOT_POSITIVE'],
  ])('rejects amount %s %s as %s and keeps the transaction id', async (amount, currency, reason) => {
    const run = await processText(lines(HEADER, row('T1', { amount, currency })));
    expect(run.rejects).toEqual([{ line: 2, reason, field: 'amount', transactionId: 'T1' }]);
  });

  it('counts duplicates separately, keeps the first and never double-counts the amount', async () => {
    const run = await processText(lines(HEADER, row('T1', { amount: '1.00' }), row('T2'), row('T1', { amount: '999.00' }), row('T1')));
    expect(run.summary.counts).toMatchObject({ read: 4, accepted: 2, rejected: 0, duplicates: 2 });
    expect(run.summary.totals.byCurrency.EUR.amount).toBe('11.00');
    expect(run.rejects).toEqual([{ line: 4, reason: 'DUPLICATE', transactionId: 'T1' }, { line: 5, reason: 'DUPLICATE', transactionId: 'T1' }]);
  });

  it('rejects a PAN in any field and never writes it anywhere', async () => {
    const pan = '4111111111111111';
    const run = await processText(lines(HEADER, row('T1', { counterparty: `card ${pan}` }), row(pan), row('T3', { accountId: pan })));
    expect(run.summary.counts).toMatchObject({ accepted: 0, rejected: 3 });
    expect(run.rejects.map((r) => r.reason)).toEqual(['PAN_DETECTED', 'PAN_DETECTED', 'PAN_DETECTED']);
    const everything = run.acceptedRaw + run.rejectsRaw + JSON.stringify(run.summary);
    expect(everything).not.toContain(pan);
    expect(everything).not.toContain('T3'); // no id is echoed from a record that held a PAN
  });

  it('never copies raw line content into rejects for structural errors', async () => {
    const run = await processText(lines(HEADER, 'SECRET-VALUE,"broken'));
    expect(run.rejectsRaw).not.toContain('SECRET');
  });
});

describe('JSON Lines', () => {
  const rec = (id: string, patch: Record<string, unknown> = {}) =>
    JSON.stringify({ transactionId: id, accountId: 'A1', entityId: 'BANK-1', amount: '7.25', currency: 'USD', timestamp: '2026-11-22T10:00:00Z', jurisdiction: 'US', type: 'POSITION', ...patch });

  it('is detected without a header and validated with the same rules', async () => {
    const run = await processText(lines(rec('J1'), rec('J2', { amount: 7.25 }), '{not json', rec('J3', { extra: 'x' }), rec('J1'), '[1]'), 'in.jsonl');
    expect(run.summary.input.format).toBe('jsonl');
    expect(run.summary.counts).toMatchObject({ read: 6, accepted: 1, rejected: 4, duplicates: 1 });
    expect(run.rejects).toEqual([
      { line: 2, reason: 'AMOUNT_FORMAT', field: 'amount', transactionId: 'J2' },
      { line: 3, reason: 'JSON_INVALID' },
      { line: 4, reason: 'UNKNOWN_FIELD' },
      { line: 5, reason: 'DUPLICATE', transactionId: 'J1' },
      { line: 6, reason: 'JSON_INVALID' },
    ]);
    expect(run.accepted[0]).toMatchObject({ transactionId: 'J1', amount: '7.25', amountMinor: '725' });
  });
});

describe('gzip input', () => {
  it('is detected by magic bytes, whatever the file name, and hashed as stored', async () => {
    const raw = Buffer.from(lines(HEADER, row('T1'), row('T2')));
    const gz = gzipSync(raw);
    const run = await processText(gz, 'plain-name.csv');
    expect(run.summary.input.compression).toBe('gzip');
    expect(run.summary.counts.accepted).toBe(2);
    expect(run.summary.input.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
  });

  it('fails a truncated gzip with GZIP_CORRUPT (exit 2) and publishes nothing', async () => {
    const gz = gzipSync(Buffer.from(lines(HEADER, ...Array.from({ length: 2000 }, (_, i) => row(`T${i}`)))));
    const err = await processText(gz.subarray(0, Math.floor(gz.length / 2))).catch((e) => e);
    expect(err).toMatchObject({ code: 'GZIP_CORRUPT', exitCode: 2 });
  });

  it('completes shards > 0 empty, with the reason in the summary', async () => {
    const run = await processText(gzipSync(Buffer.from(lines(HEADER, row('T1')))), 'in.csv.gz', { index: 1, count: 2 });
    expect(run.summary.counts.read).toBe(0);
    expect(run.summary.shard.skipped).toMatch(/gzip/);
  });
});
