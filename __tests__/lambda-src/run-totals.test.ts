/**
 * Exact run totals across shards (report-loader + lambda-src/report-loader/run-totals.ts) on moto and
 * MariaDB. Real processor shards: two input files of one run, each split into N shards, with ids
 * repeated inside and across shards and files; the loaded rows, run_load, run-summary.json and the run
 * record must equal the processor's figures for the same records processed unsharded as one file.
 */
import './quiet-logs';
import * as fs from 'fs';
import * as path from 'path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler as migrateHandler } from '../../lambda-src/report-migrate';
import { handler as loadHandler } from '../../lambda-src/report-loader';
import { getRunRecord } from '../../lambda-src/shared/run-record';
import { CurrencySums } from '../../lambda-src/report-loader/run-totals';
import { HEADER, processFile, row, tempDir } from '../processor/local-helpers';
import { captureEmf, expectRejectsNamed, KMS_KEY_ARN, raw } from './support';
import {
  acceptedRecord, JOB_STATUS_TABLE, nightlyRun, PROCESSED_BUCKET, processorFingerprint, putAccepted, ReportingFixture, startReporting,
} from './reporting-support';

const migrate = raw(migrateHandler);
const load = raw(loadHandler);
jest.setTimeout(120_000);

let fx: ReportingFixture;
beforeAll(async () => {
  fx = await startReporting();
  await migrate();
});
afterAll(async () => {
  await fx?.stop();
});

const q = <T>(sql: string, params: unknown[] = []) => fx.db.query<T>(sql.replace(/\bDB\./g, `\`${fx.db.database}\`.`), params);
const text = async (key: string) => (await fx.s3.send(new GetObjectCommand({ Bucket: PROCESSED_BUCKET, Key: key }))).Body!.transformToString('utf-8');

/** Uploads a processor shard folder as the Batch job would have committed it. */
async function upload(runId: string, jobId: string, dir: string): Promise<void> {
  const names = ['accepted.jsonl', 'rejects.jsonl', 'totals-by-account.jsonl', 'fingerprints.tsv', 'summary.json'];
  for (const name of names) {
    await fx.s3.send(new PutObjectCommand({
      Bucket: PROCESSED_BUCKET, Key: `processed/${runId}/${jobId}/${path.basename(dir)}/${name}`, Body: fs.readFileSync(path.join(dir, name)),
      ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY_ARN,
    }));
  }
}

/** Input rows: ids repeat within the file (spread over its length, so over shards) and with the other file. */
function rows(prefix: string, n: number, idOf: (i: number) => number, shift: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = i + shift;
    const currency = ['EUR', 'USD', 'JPY', 'GBP'][k % 4];
    if (k % 53 === 0) return row(`${prefix}-X${k}`, { amount: '1.234', currency: 'EUR' }); // rejected (precision)
    return row(`${prefix}-T${idOf(i)}`, {
      amount: currency === 'JPY' ? String(100 + (k % 91)) : `${(k % 89) + 1}.${String(k % 100).padStart(2, '0')}`,
      currency, jurisdiction: ['EU', 'US', 'UK', 'APAC'][k % 4], accountId: `ACC-${k % 7}`,
      timestamp: `2026-11-20T${String(k % 24).padStart(2, '0')}:00:00Z`,
    });
  });
}

describe('exact run totals across shards and files', () => {
  it.each([2, 3, 5])('%i shards per file: loads each id once (its first occurrence in run order); totals equal the unsharded reference', async (n) => {
    const runId = `2026-11-2${n}`; // a date: the run feeds a report date, reporting starts
    const prefix = `S${n}`;
    const dir = tempDir();
    // File A: 1,500 rows, ids repeating over the whole file; file B: 700 rows, half of them ids of file A.
    const a = rows(prefix, 1500, (i) => i % 1100, 0);
    const b = rows(prefix, 700, (i) => (i % 2 ? (i * 7) % 1100 : 2000 + (i % 500)), 1500);
    fs.writeFileSync(path.join(dir, 'a.csv'), [HEADER, ...a].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'b.csv'), [HEADER, ...b].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'whole.csv'), [HEADER, ...a, ...b].join('\n') + '\n');
    // Job ids sort job-a < job-b: run order is file A's shards, then file B's, as in the reference file.
    let shardAccepted = 0;
    for (const [job, file] of [['job-a', 'a.csv'], ['job-b', 'b.csv']]) {
      for (let i = 0; i < n; i++) {
        const shard = await processFile(path.join(dir, file), { index: i, count: n }, path.join(dir, job));
        shardAccepted += shard.summary.counts.accepted;
        await upload(runId, job, shard.dir);
      }
    }
    const ref = await processFile(path.join(dir, 'whole.csv'), { index: 0, count: 1 }, path.join(dir, 'ref'));
    const crossShard = shardAccepted - ref.summary.counts.accepted;
    expect(crossShard).toBeGreaterThan(0);
    await nightlyRun(runId, { ok: 2 });

    const { result, emf } = await captureEmf(() => load({ runId }));
    expect(result).toMatchObject({ runId, files: 2 * n, rows: ref.summary.counts.accepted, crossShardDuplicates: crossShard, runSummaryKey: `processed/${runId}/run-summary.json` });
    expect(emf.filter((d) => d.CrossShardDuplicates !== undefined).map((d) => [d.CrossShardDuplicates, d.Environment])).toEqual([[crossShard, 'test']]);

    // The database holds exactly the reference's records (first occurrence of each id).
    const loaded = await q<Array<{ id: string; minor: string; currency: string }>>(
      'SELECT transaction_id id, amount_minor minor, currency FROM DB.transactions WHERE transaction_id LIKE ? ORDER BY 1', [`${prefix}-%`]);
    const expected = ref.accepted.map((r) => ({ id: r.transactionId, minor: r.amountMinor, currency: r.currency })).sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(loaded).toEqual(expected);

    const refTotals = Object.fromEntries(Object.entries(ref.summary.totals.byCurrency).map(([c, t]) => [c, { count: t.count, amountMinor: t.amountMinor }]));
    const { read, accepted, rejected, duplicates } = ref.summary.counts;
    const summary = JSON.parse(await text(`processed/${runId}/run-summary.json`));
    expect(summary.counts).toEqual({ read, accepted, rejected, duplicatesWithinShards: duplicates - crossShard, crossShardDuplicates: crossShard });
    expect(summary.totalsByCurrency).toEqual(refTotals);
    expect(summary.shards.map((s: { jobId: string; shard: string }) => `${s.jobId}/${s.shard}`)).toEqual(
      ['job-a', 'job-b'].flatMap((j) => Array.from({ length: n }, (_, i) => `${j}/shard-${i}-of-${n}`)));
    for (const s of summary.shards) expect(s.summarySha256).toMatch(/^[0-9a-f]{64}$/);
    const head = await fx.s3.send(new HeadObjectCommand({ Bucket: PROCESSED_BUCKET, Key: `processed/${runId}/run-summary.json` }));
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(['aws:kms', KMS_KEY_ARN]);

    const [load1] = await q<Array<Record<string, string | null>>>('SELECT * FROM DB.run_load WHERE run_id = ?', [runId]);
    expect(load1).toMatchObject({
      row_count: String(accepted), read_count: String(read), accepted_count: String(accepted), rejected_count: String(rejected),
      shard_duplicates: String(duplicates - crossShard), cross_shard_duplicates: String(crossShard),
    });
    expect(JSON.parse(load1.totals_by_currency!)).toEqual(refTotals);
    const record = await getRunRecord(JOB_STATUS_TABLE, runId);
    expect(record).toMatchObject({
      loadedRows: accepted, runRead: read, runAccepted: accepted, runRejected: rejected, runShardDuplicates: duplicates - crossShard,
      runCrossShardDuplicates: crossShard, runTotalsByCurrency: refTotals,
    });

    // A re-load changes nothing and writes the same run-summary.json.
    const before = await text(`processed/${runId}/run-summary.json`);
    expect(await load({ runId })).toMatchObject({ rows: accepted, crossShardDuplicates: crossShard });
    expect(await text(`processed/${runId}/run-summary.json`)).toBe(before);
    expect(await q('SELECT transaction_id id, amount_minor minor, currency FROM DB.transactions WHERE transaction_id LIKE ? ORDER BY 1', [`${prefix}-%`])).toEqual(expected);
  });

  it('an id in every one of 6 shards is loaded once, from the first shard; job ids then shard index (shard-10 after shard-2) give the order', async () => {
    const runId = 'run-every-shard';
    await nightlyRun(runId, { ok: 1 });
    const shards = [0, 1, 2, 10, 11, 3].map((i) => `shard-${i}-of-12`);
    for (const [k, shard] of shards.entries()) {
      const index = Number(shard.split('-')[1]);
      await putAccepted(fx.s3, runId, 'job-e', shard, [
        acceptedRecord({ id: 'EVERY-1', amount: `${index + 1}.00` }), acceptedRecord({ id: `EVERY-U${k}`, currency: 'USD', amount: '5.00' }),
      ]);
    }
    expect(await load({ runId })).toMatchObject({ rows: 7, crossShardDuplicates: 5 });
    expect(await q('SELECT amount_minor m FROM DB.transactions WHERE transaction_id = ?', ['EVERY-1'])).toEqual([{ m: '100' }]);
    const summary = JSON.parse(await text(`processed/${runId}/run-summary.json`));
    expect(summary.shards.map((s: { shard: string }) => s.shard)).toEqual(['shard-0-of-12', 'shard-1-of-12', 'shard-2-of-12', 'shard-3-of-12', 'shard-10-of-12', 'shard-11-of-12']);
    expect(summary.totalsByCurrency).toEqual({ EUR: { count: 1, amountMinor: '100' }, USD: { count: 6, amountMinor: '3000' } });
  });

  it('two ids with one 64-bit fingerprint are not duplicates: both load; a later repeat of either is skipped', async () => {
    const runId = 'run-collision';
    await nightlyRun(runId, { ok: 1 });
    // Every id of this run gets the same fingerprint.
    const same = () => 'ffffffffffffffff';
    await putAccepted(fx.s3, runId, 'job-c', 'shard-0-of-3', [acceptedRecord({ id: 'COL-A', amount: '1.00' })], { fingerprint: same });
    await putAccepted(fx.s3, runId, 'job-c', 'shard-1-of-3', [acceptedRecord({ id: 'COL-B', amount: '2.00' })], { fingerprint: same });
    await putAccepted(fx.s3, runId, 'job-c', 'shard-2-of-3', [acceptedRecord({ id: 'COL-B', amount: '4.00' }), acceptedRecord({ id: 'COL-C', amount: '8.00' })], { fingerprint: same });
    expect(await load({ runId })).toMatchObject({ rows: 3, crossShardDuplicates: 1 });
    expect(await q('SELECT transaction_id id, amount_minor m FROM DB.transactions WHERE transaction_id LIKE ? ORDER BY 1', ['COL-%']))
      .toEqual([{ id: 'COL-A', m: '100' }, { id: 'COL-B', m: '200' }, { id: 'COL-C', m: '800' }]);
    expect(JSON.parse(await text(`processed/${runId}/run-summary.json`)).totalsByCurrency).toEqual({ EUR: { count: 3, amountMinor: '1100' } });
  });

  it('a fingerprints.tsv that differs from its commit record, or is not recorded, refuses the run; nothing is written', async () => {
    const recs = (p: string) => [acceptedRecord({ id: `${p}-1` }), acceptedRecord({ id: `${p}-2` })];
    for (const r of ['run-fp-sha', 'run-fp-none', 'run-fp-lies']) await nightlyRun(r, { ok: 1 });
    await putAccepted(fx.s3, 'run-fp-sha', 'job-f', 'shard-0-of-2', recs('FPSHA-A'));
    await putAccepted(fx.s3, 'run-fp-sha', 'job-f', 'shard-1-of-2', recs('FPSHA-B'), { fingerprintsBody: (b) => Buffer.from(b.toString().replace(/\t2\t/, '\t1\t')) });
    await expectRejectsNamed(load({ runId: 'run-fp-sha' }), 'PermanentError', /shard-1-of-2\/fingerprints.tsv: SHA-256 differs/);
    // A run of one shard: nothing to merge, but the file is still verified.
    await nightlyRun('run-fp-one', { ok: 1 });
    await putAccepted(fx.s3, 'run-fp-one', 'job-f', 'shard-0-of-1', recs('FPONE'), { fingerprintsBody: (b) => Buffer.from(b.toString().replace(/\tEU\t/, '\tUS\t')) });
    await expectRejectsNamed(load({ runId: 'run-fp-one' }), 'PermanentError', /shard-0-of-1\/fingerprints.tsv: SHA-256 differs/);
    await putAccepted(fx.s3, 'run-fp-none', 'job-f', 'shard-0-of-1', recs('FPNONE'), { outputs: { fingerprintsSha256: undefined } });
    await expectRejectsNamed(load({ runId: 'run-fp-none' }), 'PermanentError', /fingerprintsSha256/);
    // Recorded as written, but its entry says another amount than the accepted line (a duplicate is checked).
    const crypto = await import('crypto');
    const lying = (b: Buffer) => Buffer.from(b.toString().replace(/\tEUR\t10000\t/, '\tEUR\t99900\t'));
    const fp = (id: string) => processorFingerprint(id.replace(/^FPLIE-B/, 'FPLIE-A'));
    await putAccepted(fx.s3, 'run-fp-lies', 'job-f', 'shard-0-of-2', recs('FPLIE-A'));
    const body = lying(Buffer.from(`${fp('FPLIE-A-1')}\t1\tEUR\t10000\tEU\tACC-1\n`));
    await putAccepted(fx.s3, 'run-fp-lies', 'job-f', 'shard-1-of-2', [acceptedRecord({ id: 'FPLIE-A-1' })], {
      fingerprintsBody: () => body, outputs: { fingerprintsBytes: body.length, fingerprintsSha256: crypto.createHash('sha256').update(body).digest('hex') },
    });
    await expectRejectsNamed(load({ runId: 'run-fp-lies' }), 'PermanentError', /shard-1-of-2\/accepted.jsonl line 1: its fingerprints.tsv entry disagrees/);
    expect(await q('SELECT transaction_id FROM DB.transactions WHERE transaction_id LIKE ?', ['FP%'])).toEqual([]);
    expect(await q('SELECT run_id FROM DB.run_load WHERE run_id LIKE ?', ['run-fp-%'])).toEqual([]);
  });

  it('a quiet night (no shards) loads as an empty run: zero figures, run-summary.json, reporting started', async () => {
    const runId = '2026-11-30';
    await nightlyRun(runId, { ok: 0 });
    expect(await load({ runId })).toMatchObject({ files: 0, rows: 0, crossShardDuplicates: 0, reportDate: '2026-11-27', reporting: { status: 'STARTED' } });
    const summary = JSON.parse(await text(`processed/${runId}/run-summary.json`));
    expect(summary).toMatchObject({ counts: { read: 0, accepted: 0, rejected: 0, duplicatesWithinShards: 0, crossShardDuplicates: 0 }, totalsByCurrency: {}, shards: [] });
    expect(await q('SELECT row_count, accepted_count FROM DB.run_load WHERE run_id = ?', [runId])).toEqual([{ row_count: '0', accepted_count: '0' }]);
  });

  it('CurrencySums is exact past 2^53 (sums move into a bigint before a double could round)', () => {
    const sums = new CurrencySums();
    const big = 2n ** 50n + 7n;
    let want = 0n;
    for (let i = 0; i < 40; i++) {
      sums.add('EUR', big + BigInt(i));
      want += big + BigInt(i);
    }
    sums.add('EUR', 2n ** 60n);
    sums.add('JPY', 5n);
    expect(sums.totals()).toEqual(new Map([['EUR', { count: 41, amountMinor: want + 2n ** 60n }], ['JPY', { count: 1, amountMinor: 5n }]]));
  });

  it('CurrencySums is exact for large negative sums (refunds) too', () => {
    const sums = new CurrencySums();
    const big = -(2n ** 50n) - 3n;
    let want = 0n;
    for (let i = 0; i < 40; i++) {
      sums.add('USD', big - BigInt(i));
      want += big - BigInt(i);
    }
    expect(sums.totals().get('USD')).toEqual({ count: 40, amountMinor: want });
  });
});
