/**
 * Failure paths and commits: error messages carry no input content and stay small; one writer per
 * output folder; a crash during the local commit never leaves a marker over other files; summary.json
 * records each committed file's size and SHA-256 as written.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BadInputError, capMessage, classifyError, InternalError, MAX_MESSAGE_BYTES } from '../../processor/src/errors';
import { frameLines, LongLine, MAX_LINE_BYTES } from '../../processor/src/lines';
import { verifyOutputDigest } from '../../processor/src/output-digest';
import { runShard } from '../../processor/src/pipeline';
import { LocalTarget, LOCK_FILE, lockIsStale } from '../../processor/src/sink';
import { openLocal } from '../../processor/src/source';
import { HEADER, processFile, processText, row, tempDir } from './local-helpers';

const lines = (...l: string[]) => l.join('\n') + '\n';
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('error messages', () => {
  it('name unknown header columns by position, never by their text', async () => {
    const err = await processText(lines(HEADER + ',memo,4111111111111111', 'x')).catch((e) => e);
    expect(err).toMatchObject({ code: 'HEADER_UNKNOWN_COLUMN', exitCode: 2 });
    expect(err.message).toContain('11, 12 of 12');
    expect(err.message).not.toContain('memo');
    expect(err.message).not.toContain('4111111111111111');
  });

  it('report lone-CR line endings as their own error, without echoing the file', async () => {
    const secret = 'SECRET-COUNTERPARTY';
    const body = [HEADER, ...Array.from({ length: 20_000 }, (_, i) => row(`T${i}`, { counterparty: secret }))].join('\r') + '\r';
    expect(body.length).toBeGreaterThan(1_000_000);
    const err = await processText(body).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err).toMatchObject({ code: 'LINE_ENDINGS_CR', exitCode: 2 });
    expect(err.message).toMatch(/lone-CR line endings/);
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain('T1');
    expect(Buffer.byteLength(err.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('report lone-CR line endings for shards > 0 too (header read from the object head)', async () => {
    const body = [HEADER, ...Array.from({ length: 200 }, (_, i) => row(`T${i}`))].join('\r') + '\r';
    const err = await processText(body, 'in.csv', { index: 1, count: 2 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'LINE_ENDINGS_CR', exitCode: 2 });
  });

  it('are capped at 1 KB whatever produced them', () => {
    const huge = 'x'.repeat(3_000_000);
    expect(Buffer.byteLength(new BadInputError('X', huge).message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(Buffer.byteLength(new InternalError('X', '商'.repeat(5000)).message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const wrapped = classifyError(new TypeError(huge), 'processor');
    expect(Buffer.byteLength(wrapped.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(wrapped.message).toMatch(/truncated\]$/);
    expect(capMessage('short')).toBe('short');
  });
});

describe('one writer per output folder', () => {
  it('fails a second run into a locked folder with exit 2, naming the holder', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    fs.writeFileSync(file, lines(HEADER, row('T1')));
    const out = path.join(dir, 'out');
    const release = await new LocalTarget(out).lock('shard-0-of-1');
    const err = await processFile(file, undefined, out).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err).toMatchObject({ code: 'OUTPUT_LOCKED', exitCode: 2 });
    expect(err.message).toContain(`pid ${process.pid} on host ${os.hostname()}`);
    expect(fs.readdirSync(path.join(out, 'shard-0-of-1'))).toEqual([LOCK_FILE]);
    await release();
    const run = await processFile(file, undefined, out);
    expect(run.summary.counts.accepted).toBe(1);
    expect(fs.readdirSync(run.dir).sort()).toEqual(['accepted.jsonl', 'fingerprints.tsv', 'rejects.jsonl', 'summary.json', 'totals-by-account.jsonl']);
  });

  it('says when the lock belongs to a process that no longer runs (stale)', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    const info = { pid, host: os.hostname(), since: '2026-11-20T00:00:00.000Z' };
    expect(lockIsStale(info)).toBe(true);
    expect(lockIsStale({ ...info, pid: process.pid })).toBe(false);
    expect(lockIsStale({ ...info, host: 'another-host' })).toBe(false);
    const out = tempDir();
    fs.mkdirSync(path.join(out, 'shard-0-of-1'));
    fs.writeFileSync(path.join(out, 'shard-0-of-1', LOCK_FILE), JSON.stringify(info));
    const err = await new LocalTarget(out).lock('shard-0-of-1').catch((e) => e);
    expect(err).toMatchObject({ code: 'OUTPUT_LOCKED', exitCode: 2 });
    expect(err.message).toMatch(/no longer running \(stale lock\); delete .*\.lock and re-run/);
  });

  it('two concurrent runs into one folder: one fails fast, the other commits files that match its summary', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.csv');
    const b = path.join(dir, 'b.csv');
    fs.writeFileSync(a, lines(HEADER, ...Array.from({ length: 30_000 }, (_, i) => row(`A${i}`))));
    fs.writeFileSync(b, lines(HEADER, ...Array.from({ length: 3_000 }, (_, i) => row(`B${i}`))));
    const out = path.join(dir, 'out');
    const results = await Promise.allSettled([
      runShard(await openLocal(a), new LocalTarget(out), { index: 0, count: 1 }),
      runShard(await openLocal(b), new LocalTarget(out), { index: 0, count: 1 }),
    ]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toMatchObject({ code: 'OUTPUT_LOCKED', exitCode: 2 });
    const shard = path.join(out, 'shard-0-of-1');
    expect(fs.readdirSync(shard).sort()).toEqual(['accepted.jsonl', 'fingerprints.tsv', 'rejects.jsonl', 'summary.json', 'totals-by-account.jsonl']);
    const summary = JSON.parse(fs.readFileSync(path.join(shard, 'summary.json'), 'utf8'));
    const accepted = fs.readFileSync(path.join(shard, 'accepted.jsonl'));
    expect(accepted.includes(0)).toBe(false);
    expect(summary.outputs.acceptedBytes).toBe(accepted.length);
    expect(summary.outputs.acceptedSha256).toBe(sha256(path.join(shard, 'accepted.jsonl')));
    expect(accepted.toString().trim().split('\n')).toHaveLength(summary.counts.accepted);
  });
});

describe('local commit', () => {
  it('a crash between the renames leaves no summary.json (uncommitted), never the old one over new data', async () => {
    const dir = tempDir();
    const first = path.join(dir, 'first.csv');
    const second = path.join(dir, 'second.csv');
    fs.writeFileSync(first, lines(HEADER, row('T1'), row('T2')));
    fs.writeFileSync(second, lines(HEADER, row('T3'), row('T4'), row('T5')));
    const out = path.join(dir, 'out');
    await runShard(await openLocal(first), new LocalTarget(out), { index: 0, count: 1 });
    const shard = path.join(out, 'shard-0-of-1');
    expect(fs.existsSync(path.join(shard, 'summary.json'))).toBe(true);

    const crashing = new LocalTarget(out, {
      afterRename: (name) => {
        if (name.endsWith('accepted.jsonl')) throw new Error('simulated crash after the first rename');
      },
    });
    await expect(runShard(await openLocal(second), crashing, { index: 0, count: 1 })).rejects.toThrow('simulated crash');
    expect(fs.readFileSync(path.join(shard, 'accepted.jsonl'), 'utf8')).toContain('"T3"');
    expect(fs.existsSync(path.join(shard, 'summary.json'))).toBe(false);
    expect(fs.readdirSync(shard).filter((f) => f.endsWith('.partial') || f === LOCK_FILE)).toEqual([]);

    // A clean re-run commits again.
    const run = await processFile(second, undefined, out);
    expect(run.summary.counts.accepted).toBe(3);
  });

  it('summary.json is written last: it is the only file renamed after the data files', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    fs.writeFileSync(file, lines(HEADER, row('T1'), 'bad'));
    const order: string[] = [];
    await runShard(await openLocal(file), new LocalTarget(path.join(dir, 'out'), { afterRename: (n) => order.push(path.basename(n)) }), { index: 0, count: 1 });
    expect(order).toEqual(['accepted.jsonl', 'rejects.jsonl', 'fingerprints.tsv', 'totals-by-account.jsonl', 'summary.json']);
  });
});

describe('summary.json outputs', () => {
  it('records byte count and SHA-256 (lowercase hex) of each committed file', async () => {
    const run = await processText(lines(HEADER, row('T1'), row('T2', { counterparty: 'Müller' }), 'broken', row('T1')));
    const { outputs } = run.summary;
    for (const [name, bytes, hash] of [
      ['accepted.jsonl', outputs.acceptedBytes, outputs.acceptedSha256],
      ['rejects.jsonl', outputs.rejectsBytes, outputs.rejectsSha256],
    ] as const) {
      const file = path.join(run.dir, name);
      expect(bytes).toBe(fs.statSync(file).size);
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hash).toBe(sha256(file));
    }
    const onDisk = JSON.parse(fs.readFileSync(path.join(run.dir, 'summary.json'), 'utf8'));
    expect(onDisk.outputs).toEqual(outputs);
  });

  it('verifyOutputDigest accepts the committed bytes and refuses truncated or altered ones', async () => {
    const run = await processText(lines(HEADER, row('T1'), row('T2')));
    const data = fs.readFileSync(path.join(run.dir, 'accepted.jsonl'));
    const expected = { bytes: run.summary.outputs.acceptedBytes, sha256: run.summary.outputs.acceptedSha256 };
    expect((await verifyOutputDigest(expected, fs.createReadStream(path.join(run.dir, 'accepted.jsonl')))).ok).toBe(true);
    expect(await verifyOutputDigest(expected, [data.subarray(0, 10)])).toMatchObject({ ok: false, problem: expect.stringMatching(/^size 10 bytes/) });
    const altered = Buffer.from(data);
    altered[5] ^= 1;
    expect(await verifyOutputDigest(expected, [altered])).toMatchObject({ ok: false, problem: expect.stringMatching(/^SHA-256/) });
  });

  it('hashes an empty output too', async () => {
    const run = await processText(lines(HEADER));
    expect(run.summary.outputs.acceptedSha256).toBe(createHash('sha256').digest('hex'));
  });
});

describe('bounded lines', () => {
  const long = (n: number) => row('TL', { counterparty: 'x'.repeat(n) });

  it.each([
    ['inside one read chunk', 70_000, 0],
    ['spanning read chunks', 3_000_000, 0],
    ['after 1 MiB of good lines (starts mid-chunk)', 200_000, 12_000],
  ])('rejects a line longer than 64 KB %s as LINE_TOO_LONG with its line number', async (_name, size, before) => {
    const head = Array.from({ length: before }, (_, i) => row(`P${i}`));
    const run = await processText(lines(HEADER, ...head, row('T1'), long(size), row('T2'), long(65_536 - long(0).length), row('T3')));
    // A line of exactly 64 KB is parsed (and fails on its 65 KB counterparty), one byte more is not.
    expect(run.rejects).toEqual([
      { line: before + 3, reason: 'LINE_TOO_LONG' },
      { line: before + 5, reason: 'COUNTERPARTY_INVALID', field: 'counterparty', transactionId: 'TL' },
    ]);
    expect(run.summary.counts).toMatchObject({ read: before + 5, accepted: before + 3, rejected: 2 });
    expect(run.rejectsRaw).not.toContain('xxxx');
  });

  it('treats a last line without a newline the same way', async () => {
    const run = await processText(lines(HEADER, row('T1')) + long(2_000_000));
    expect(run.rejects).toEqual([{ line: 3, reason: 'LINE_TOO_LONG' }]);
  });

  it('fails a first line longer than 64 KB as HEADER_TOO_LONG (exit 2), in shard 0 and in shards > 0', async () => {
    const body = lines('x'.repeat(5_000_000), row('T1'));
    await expect(processText(body)).rejects.toMatchObject({ code: 'HEADER_TOO_LONG', exitCode: 2 });
    await expect(processText(body, 'in.csv', { index: 1, count: 2 })).rejects.toMatchObject({ code: 'HEADER_TOO_LONG', exitCode: 2 });
  });

  it('frames a newline-free stream without holding more than one line limit of it', async () => {
    async function* chunks() {
      for (let i = 0; i < 50; i++) yield Buffer.alloc(1 << 20, 0x41);
      yield Buffer.from('\nnext\n');
    }
    const framed = frameLines(chunks(), { start: 0, end: Infinity, ownsFirstLine: true });
    const out: (Buffer | LongLine)[] = [];
    for await (const b of framed.blocks) out.push(b);
    expect(out).toHaveLength(2);
    expect(out[0]).toBeInstanceOf(LongLine);
    expect((out[0] as LongLine).head.length).toBe(MAX_LINE_BYTES);
    expect(out[1].toString()).toBe('next\n');
    expect(framed.bytes()).toBe(50 * (1 << 20) + 6);
  });
});

describe('per-account totals file', () => {
  it('keeps summary.json small and commits the per-account breakdown as its own verified file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const accounts = 20_000;
    fs.writeFileSync(file, lines(HEADER, ...Array.from({ length: 2 * accounts }, (_, i) => row(`T${i}`, { accountId: `ACC-${i >> 1}`, currency: i % 2 ? 'EUR' : 'JPY', amount: i % 2 ? '1.25' : '7' }))));
    const run = await processFile(file);
    const summaryBytes = fs.statSync(path.join(run.dir, 'summary.json')).size;
    expect(summaryBytes).toBeLessThan(4096);
    expect(run.summary.totals).not.toHaveProperty('byAccount');
    const accountsFile = path.join(run.dir, 'totals-by-account.jsonl');
    const rows = fs.readFileSync(accountsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2 * accounts);
    expect(rows.slice(0, 2)).toEqual([
      { accountId: 'ACC-0', currency: 'EUR', count: 1, amount: '1.25', amountMinor: '125' },
      { accountId: 'ACC-0', currency: 'JPY', count: 1, amount: '7', amountMinor: '7' },
    ]);
    expect(rows.map((r) => r.accountId)).toEqual([...rows.map((r) => r.accountId)].sort());
    const sum = (c: string) => rows.filter((r) => r.currency === c).reduce((s, r) => s + BigInt(r.amountMinor), 0n).toString();
    expect(sum('EUR')).toBe(run.summary.totals.byCurrency.EUR.amountMinor);
    expect(sum('JPY')).toBe(run.summary.totals.byCurrency.JPY.amountMinor);
    expect(run.summary.outputs.totalsByAccountBytes).toBe(fs.statSync(accountsFile).size);
    expect(run.summary.outputs.totalsByAccountSha256).toBe(sha256(accountsFile));
  });
});
