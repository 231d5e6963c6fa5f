/**
 * Commit-marker and integrity rules for shard outputs, shared by the report loader and the local run.
 */
import * as crypto from 'crypto';
import { compareShardDirs, FileVerifier, parseCommit, parseRunCommit, shardDirsOf, verifiedLines, verifyAccepted } from '../../lambda-src/shared/shard-outputs';

const DIR = 'processed/2026-11-20/job-a/shard-0-of-2';
const body = Buffer.from('{"a":1}\n{"b":"é"}\n', 'utf8');
const sha = crypto.createHash('sha256').update(body).digest('hex');
const summary = (outputs: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, outputs: { acceptedBytes: body.length, acceptedSha256: sha, ...outputs } });
/** The body in chunks that split the two-byte "é" and the lines. */
async function* chunks(buf: Buffer, size = 3): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('shard outputs', () => {
  it('splits a run into committed shards (summary.json present) and uncommitted ones', () => {
    expect(shardDirsOf([
      `${DIR}/accepted.jsonl`, `${DIR}/rejects.jsonl`, `${DIR}/summary.json`,
      'processed/2026-11-20/job-a/shard-1-of-2/accepted.jsonl',
      'processed/2026-11-20/job-b/shard-0-of-1/summary.json',
      'processed/2026-11-20/job-c/notes.txt',
    ])).toEqual({
      committed: ['processed/2026-11-20/job-a/shard-0-of-2', 'processed/2026-11-20/job-b/shard-0-of-1'],
      uncommitted: ['processed/2026-11-20/job-a/shard-1-of-2'],
    });
  });

  it('reads the commit record; refuses a summary without a byte count or SHA-256', () => {
    expect(parseCommit(DIR, summary({}))).toEqual({ dir: DIR, acceptedKey: `${DIR}/accepted.jsonl`, acceptedBytes: body.length, acceptedSha256: sha });
    expect(() => parseCommit(DIR, summary({ acceptedSha256: undefined }))).toThrow(/acceptedSha256/);
    expect(() => parseCommit(DIR, summary({ acceptedSha256: sha.toUpperCase() }))).toThrow(/acceptedSha256/);
    expect(() => parseCommit(DIR, summary({ acceptedBytes: -1 }))).toThrow(/acceptedBytes/);
    expect(() => parseCommit(DIR, summary({ acceptedBytes: '17' }))).toThrow(/acceptedBytes/);
    expect(() => parseCommit(DIR, '{')).toThrow(/not JSON/);
    expect(() => parseCommit(DIR, '{}')).toThrow(/no outputs/);
  });

  it('yields the lines of a matching file, decoding characters split across chunks', async () => {
    const lines: string[] = [];
    for await (const l of verifiedLines(chunks(body), parseCommit(DIR, summary({})))) lines.push(`${l.n}:${l.line}`);
    expect(lines).toEqual(['1:{"a":1}', '2:{"b":"é"}']);
    expect(await verifyAccepted(chunks(body, 1), parseCommit(DIR, summary({})))).toBe(2);
  });

  it('refuses a file whose bytes or SHA-256 differ from the commit record', async () => {
    const tampered = Buffer.from(body.toString('utf8').replace('1', '2'), 'utf8');
    await expect(verifyAccepted(chunks(tampered), parseCommit(DIR, summary({})))).rejects.toThrow(expect.objectContaining({ name: 'PermanentError', message: expect.stringMatching(/SHA-256 differs/) }));
    await expect(verifyAccepted(chunks(Buffer.concat([body, Buffer.from('{"c":3}\n')])), parseCommit(DIR, summary({})))).rejects.toThrow(/longer than the 19 bytes/);
    await expect(verifyAccepted(chunks(body.subarray(0, 8)), parseCommit(DIR, summary({})))).rejects.toThrow(/8 bytes, its summary.json recorded 19/);
  });

  it('holds back a last line without a newline until the file is verified', async () => {
    const noNewline = body.subarray(0, body.length - 1);
    const shard = parseCommit(DIR, summary({ acceptedBytes: noNewline.length, acceptedSha256: 'b'.repeat(64) }));
    const seen: string[] = [];
    await expect((async () => { for await (const l of verifiedLines(chunks(noNewline), shard)) seen.push(l.line); })()).rejects.toThrow(/SHA-256 differs/);
    expect(seen).toEqual(['{"a":1}']);
  });

  it('orders a run by job id, then shard index as a number (shard-2 before shard-10)', () => {
    const run = 'processed/2026-11-20';
    const dirs = ['job-b/shard-0-of-12', 'job-a/shard-10-of-12', 'job-a/shard-2-of-12', 'job-a/shard-0-of-12', 'job-a/shard-1-of-12'].map((d) => `${run}/${d}`);
    expect(shardDirsOf(dirs.map((d) => `${d}/summary.json`)).committed.map((d) => d.slice(run.length + 1)))
      .toEqual(['job-a/shard-0-of-12', 'job-a/shard-1-of-12', 'job-a/shard-2-of-12', 'job-a/shard-10-of-12', 'job-b/shard-0-of-12']);
    expect(compareShardDirs(`${run}/job-a/shard-9-of-10`, `${run}/job-a/shard-10-of-10`)).toBeLessThan(0);
  });

  it('reads the full commit record a run load needs; refuses one without fingerprints, counts or exact totals', () => {
    const fpSha = 'c'.repeat(64);
    const full = (patch: Record<string, unknown> = {}, outputs: Record<string, unknown> = {}) => JSON.stringify({
      schemaVersion: 1, counts: { read: 5, accepted: 2, rejected: 2, duplicates: 1 }, totals: { byCurrency: { EUR: { count: 2, amount: '3.00', amountMinor: '300' } } },
      outputs: { acceptedBytes: body.length, acceptedSha256: sha, fingerprintsBytes: 100, fingerprintsSha256: fpSha, ...outputs }, ...patch,
    });
    const c = parseRunCommit(DIR, full());
    expect(c).toMatchObject({
      jobId: 'job-a', shard: 'shard-0-of-2', fingerprints: { key: `${DIR}/fingerprints.tsv`, bytes: 100, sha256: fpSha },
      counts: { read: 5, accepted: 2, rejected: 2, duplicates: 1 }, summarySha256: crypto.createHash('sha256').update(full()).digest('hex'),
    });
    expect(c.totalsByCurrency.get('EUR')).toEqual({ count: 2, amountMinor: 300n });
    expect(() => parseRunCommit(DIR, full({}, { fingerprintsSha256: undefined }))).toThrow(/fingerprintsSha256/);
    expect(() => parseRunCommit(DIR, full({}, { fingerprintsBytes: -1 }))).toThrow(/fingerprintsBytes/);
    expect(() => parseRunCommit(DIR, full({ counts: { read: 1 } }))).toThrow(/counts.accepted/);
    expect(() => parseRunCommit(DIR, full({ totals: { byCurrency: { EUR: { count: 1, amountMinor: 1.5 } } } }))).toThrow(/minor units/);
    expect(() => parseRunCommit(DIR, full({ totals: {} }))).toThrow(/totals.byCurrency/);
  });

  it('FileVerifier: refuses a file longer, shorter or other than recorded', () => {
    const ok = new FileVerifier({ key: 'k', bytes: body.length, sha256: sha });
    ok.update(body.subarray(0, 5));
    ok.update(body.subarray(5));
    expect(() => ok.finish()).not.toThrow();
    const long = new FileVerifier({ key: 'k', bytes: 3, sha256: sha });
    expect(() => long.update(body)).toThrow(/longer than the 3 bytes/);
    const short = new FileVerifier({ key: 'k', bytes: body.length + 1, sha256: sha });
    short.update(body);
    expect(() => short.finish()).toThrow(/bytes, its summary.json recorded/);
    const other = new FileVerifier({ key: 'k', bytes: body.length, sha256: 'd'.repeat(64) });
    other.update(body);
    expect(() => other.finish()).toThrow(/SHA-256 differs/);
  });
});
