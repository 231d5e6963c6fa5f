/**
 * Report-loader benchmark (prints figures, asserts nothing): peak RSS and wall time of loading one
 * committed shard of N accepted records from S3 (moto) into a real MariaDB.
 *   npx tsx bench/loader.ts [--count 1000000] [--batch 500] [--variants tx,staging] [--loader <module>]
 *                           [--shards K --cross-shard-share 0.01]
 * `--shards K` (K > 1) spreads the records over K committed shards of one job (record i in shard i % K)
 * and repeats a share of them at the end of the last shard (`--cross-shard-share`, default 0.01), so the
 * handler merges K fingerprint files and skips the repeats (the staging variant needs one shard).
 * Variants: `tx` is the handler (lambda-src/report-loader: the whole run in one transaction while the
 * file streams); `staging` loads the same stream into a staging table with autocommitted batches and
 * merges it into `transactions` in one transaction at the end (the other way to make a run atomic).
 * `--loader path/to/module.ts` measures another handler module (e.g. an earlier version) as `module`.
 * Each variant runs in its own process (peak RSS from bench/lib/rss-report.cjs) against an emptied
 * `transactions` table; the process's figure includes Node, the SDK and mysql2 (~100 MB at rest).
 * The handler loads only a complete run and then starts reporting, so moto also holds what it gates
 * on and triggers: the job-status table with the run's completed record (one succeeded job), a
 * reporting state machine (recorded, not executed) and the reporting alerts topic. A variant after
 * the first finds the run already marked and the execution already started (ALREADY_STARTED).
 */
import { spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { Upload } from '@aws-sdk/lib-storage';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { runRecordId, TABLES, toCreateTableInput } from '../contracts/tables';
import { startMariaDb } from '../test-support/mariadb';
import { startMoto } from '../test-support/moto-server';

const ROOT = path.resolve(__dirname, '..');
const BUCKET = 'bench-processed';
const RUN = '2026-11-20';
const DIR = `processed/${RUN}/job-bench/shard-0-of-1`;
const STATUS_TABLE = 'bench-job-status';
const STATE_MACHINE = 'bench-reporting-workflow';
const TOPIC = 'bench-reporting-alerts';

/** What the handler gates on and triggers: a completed run record, the state machine it starts, the alerts topic. */
/** The loader's job-status table with a completed run record, its state machine and alerts topic, and the database secret. */
async function provisionTrigger(moto: { endpoint: string; clientConfig: object }, db: { user: string; password: string }): Promise<{ stateMachineArn: string; topicArn: string; secretArn: string }> {
  const ddb = new DynamoDBClient(moto.clientConfig);
  await ddb.send(new CreateTableCommand(toCreateTableInput(TABLES.jobStatus, STATUS_TABLE)));
  const now = Date.now();
  await DynamoDBDocumentClient.from(ddb).send(new PutCommand({
    TableName: STATUS_TABLE,
    Item: {
      jobId: runRecordId(RUN), runId: RUN, recordType: 'RUN', startedAt: now - 3600e3, submittedJobs: new Set(['job-bench']), terminalJobs: new Set(['job-bench']),
      succeededJobs: 1, failedJobs: 0, completedAt: now,
    },
  }));
  // Record executions without running them (the bench measures the load, not the workflow).
  const res = await fetch(`${moto.endpoint}/moto-api/config`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ stepfunctions: { execute_state_machine: false } }),
  });
  if (!res.ok) throw new Error(`moto config: HTTP ${res.status}`);
  const sm = await new SFNClient(moto.clientConfig).send(new CreateStateMachineCommand({
    name: STATE_MACHINE, roleArn: 'arn:aws:iam::123456789012:role/bench-reporting-workflow-role',
    definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
  }));
  const topic = await new SNSClient(moto.clientConfig).send(new CreateTopicCommand({ Name: TOPIC }));
  const secret = await new SecretsManagerClient(moto.clientConfig).send(new CreateSecretCommand({
    Name: 'bench-reporting-db', SecretString: JSON.stringify({ username: db.user, password: db.password }),
  }));
  return { stateMachineArn: sm.stateMachineArn!, topicArn: topic.TopicArn!, secretArn: secret.ARN! };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** One accepted record line (contracts.md), ~230 bytes, deterministic. */
function line(i: number): string {
  const minor = 100 + ((i * 7919) % 9_999_900);
  const amount = `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
  const sec = i % 86_400;
  const ts = `2026-11-20T${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}.000Z`;
  return JSON.stringify({
    transactionId: `TX-${String(i).padStart(9, '0')}`, accountId: `ACC-${String(i % 5000).padStart(6, '0')}`, entityId: `ENTITY-${'ABCD'[i % 4]}`,
    amount, amountMinor: String(minor), currency: 'EUR', timestamp: ts, counterparty: 'Counterparty Bank AG',
    jurisdiction: ['EU', 'US', 'UK', 'APAC'][i % 4], type: 'TRANSACTION',
  });
}

/** The processor's fingerprints.tsv for the shard's records (sorted by fingerprint, then line), with its size, SHA-256 and the EUR total. */
async function writeFingerprints(file: string, records: number[]): Promise<{ bytes: number; sha256: string; totalMinor: bigint }> {
  const { fingerprintOf } = await import('../processor/src/dedupe');
  const count = records.length;
  const hi = new Uint32Array(count);
  const lo = new Uint32Array(count);
  const fp = new Uint32Array(2);
  let totalMinor = 0n;
  for (let i = 0; i < count; i++) {
    const id = `TX-${String(records[i]).padStart(9, '0')}`;
    fingerprintOf(id, 0, id.length, fp);
    hi[i] = fp[0];
    lo[i] = fp[1];
    totalMinor += BigInt(100 + ((records[i] * 7919) % 9_999_900));
  }
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => hi[a] - hi[b] || lo[a] - lo[b] || a - b);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const written = await writeLines(file, count, (k) => {
    const i = order[k];
    const r = records[i];
    return `${hex(hi[i])}${hex(lo[i])}\t${i + 1}\tEUR\t${100 + ((r * 7919) % 9_999_900)}\t${['EU', 'US', 'UK', 'APAC'][r % 4]}\tACC-${String(r % 5000).padStart(6, '0')}`;
  });
  return { ...written, totalMinor };
}

async function writeShard(file: string, records: number[]): Promise<{ bytes: number; sha256: string }> {
  return writeLines(file, records.length, (i) => line(records[i]));
}

/** Writes `count` lines (`lineAt(i)` + "\n") to `file` in ~1 MiB writes; returns their byte count and SHA-256. */
async function writeLines(file: string, count: number, lineAt: (i: number) => string): Promise<{ bytes: number; sha256: string }> {
  const out = fs.createWriteStream(file);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let buf = '';
  for (let i = 0; i < count; i++) {
    buf += `${lineAt(i)}\n`;
    if (buf.length > 1 << 20 || i === count - 1) {
      const b = Buffer.from(buf, 'utf8');
      hash.update(b);
      bytes += b.length;
      if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { bytes, sha256: hash.digest('hex') };
}

/** Child mode: run one variant against the environment the parent set, print one JSON line. */
async function child(variant: string, modulePath: string): Promise<void> {
  const started = process.hrtime.bigint();
  let result: unknown;
  if (variant === 'staging') {
    result = await loadViaStaging(Number(arg('--batch', '500')));
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.resolve(ROOT, modulePath)) as { handler: (e: unknown) => Promise<unknown> };
    result = await mod.handler({ runId: RUN });
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const { closeDb } = await import('../lambda-src/shared/db');
  await closeDb();
  process.stdout.write(`${JSON.stringify({ wall, result })}\n`);
}

/** The staging-table alternative: same stream and validation, batches autocommitted into a staging table, one merge. */
async function loadViaStaging(batchSize: number): Promise<unknown> {
  const { withConnection } = await import('../lambda-src/shared/db');
  const { openBody, readText } = await import('../lambda-src/shared/s3-object');
  const { parseCommit, verifiedLines } = await import('../lambda-src/shared/shard-outputs');
  const { parseAcceptedLine } = await import('../lambda-src/report-loader');
  const cols = ['transaction_id', 'account_id', 'entity_id', 'amount', 'amount_minor', 'currency', '`timestamp`', 'counterparty', 'jurisdiction', 'report_type', 'run_id'];
  const updated = cols.filter((c) => c !== 'transaction_id' && c !== 'run_id');
  const sql = (n: number) => `INSERT INTO transactions_stage (${cols.join(', ')}) VALUES ${Array.from({ length: n }, () => `(${cols.map(() => '?').join(', ')})`).join(', ')}`;
  const shard = parseCommit(DIR, await readText(BUCKET, `${DIR}/summary.json`));
  return withConnection('staging', async (conn) => {
    await conn.query('DROP TABLE IF EXISTS transactions_stage');
    await conn.query('CREATE TABLE transactions_stage LIKE transactions');
    let params: unknown[] = [];
    let n = 0;
    let rows = 0;
    const flush = async () => {
      if (!n) return;
      await conn.query(sql(n), params);
      rows += n;
      params = [];
      n = 0;
    };
    for await (const { n: ln, line: text } of verifiedLines(await openBody(BUCKET, shard.acceptedKey), shard)) {
      const t = parseAcceptedLine(shard.acceptedKey, ln, text);
      if (!t) continue;
      params.push(t.transactionId, t.accountId, t.entityId, t.amount, t.amountMinor.toString(), t.currency,
        new Date(t.timestamp).toISOString().replace('T', ' ').replace('Z', ''), t.counterparty ?? null, t.jurisdiction, t.type, RUN);
      if (++n === batchSize) await flush();
    }
    await flush();
    const mergeStarted = process.hrtime.bigint();
    await conn.beginTransaction();
    await conn.query(`INSERT INTO transactions (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM transactions_stage
      ON DUPLICATE KEY UPDATE ${updated.map((c) => `${c} = VALUES(${c})`).join(', ')}`);
    await conn.commit();
    const mergeSeconds = Number(process.hrtime.bigint() - mergeStarted) / 1e9;
    await conn.query('DROP TABLE transactions_stage');
    return { rows, mergeSeconds: Number(mergeSeconds.toFixed(1)) };
  });
}

function runChild(variant: string, modulePath: string, env: Record<string, string>): Promise<{ wall: number; peakRssMb: number; result: unknown; code: number | null }> {
  const rssFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-loader-')), 'rss');
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [tsx, __filename, '--child', variant, '--module', modulePath, '--batch', arg('--batch', '500')], {
      env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: `--require ${path.join(__dirname, 'lib', 'rss-report.cjs')}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    p.on('exit', (code) => {
      const rss = fs.existsSync(rssFile) ? Math.max(...fs.readFileSync(rssFile, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]))) : NaN;
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      const parsed = last ? JSON.parse(last) as { wall: number; result: unknown } : { wall: NaN, result: undefined };
      resolve({ wall: parsed.wall, peakRssMb: rss / 1024 / 1024, result: parsed.result, code });
    });
  });
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child(arg('--child', 'tx'), arg('--module', 'lambda-src/report-loader/index.ts'));
  const count = Number(arg('--count', '1000000'));
  const variants = arg('--variants', 'tx,staging').split(',');
  const extra = process.argv.includes('--loader') ? arg('--loader', '') : undefined;
  const bufferPoolMb = Number(arg('--buffer-pool-mb', '256'));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-loader-data-'));
  const [moto, db] = await Promise.all([startMoto(), startMariaDb({ bufferPoolMb })]);
  try {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const t0 = Date.now();
    const shardCount = Number(arg('--shards', '1'));
    const repeats = shardCount > 1 ? Math.floor(count * Number(arg('--cross-shard-share', '0.01'))) : 0;
    let bytes = 0;
    for (let k = 0; k < shardCount; k++) {
      const records: number[] = [];
      for (let i = k; i < count; i += shardCount) records.push(i);
      // The last shard repeats records of the other shards: cross-shard duplicates for the run-level dedupe.
      if (k === shardCount - 1) for (let i = 0, added = 0; added < repeats; i++) if (i % shardCount !== k) { records.push(i); added++; }
      const dir = shardCount === 1 ? DIR : `processed/${RUN}/job-bench/shard-${k}-of-${shardCount}`;
      const file = path.join(work, 'accepted.jsonl');
      const written = await writeShard(file, records);
      bytes += written.bytes;
      await new Upload({ client: s3, params: { Bucket: BUCKET, Key: `${dir}/accepted.jsonl`, Body: fs.createReadStream(file) }, partSize: 16 << 20 }).done();
      // The shard's fingerprints.tsv and a summary.json with counts and totals, as the processor commits them.
      const fpFile = path.join(work, 'fingerprints.tsv');
      const fp = await writeFingerprints(fpFile, records);
      await new Upload({ client: s3, params: { Bucket: BUCKET, Key: `${dir}/fingerprints.tsv`, Body: fs.createReadStream(fpFile) }, partSize: 16 << 20 }).done();
      const n = records.length;
      await s3.send(new PutObjectCommand({
        Bucket: BUCKET, Key: `${dir}/summary.json`,
        Body: JSON.stringify({
          schemaVersion: 1,
          counts: { read: n, accepted: n, rejected: 0, duplicates: 0, byReason: {} },
          totals: { byCurrency: { EUR: { count: n, amountMinor: fp.totalMinor.toString() } }, byJurisdiction: {} },
          outputs: {
            accepted: `s3://${BUCKET}/${dir}/accepted.jsonl`, acceptedBytes: written.bytes, acceptedSha256: written.sha256, rejectsBytes: 0,
            fingerprints: `s3://${BUCKET}/${dir}/fingerprints.tsv`, fingerprintsBytes: fp.bytes, fingerprintsSha256: fp.sha256,
          },
        }),
      }));
    }
    fs.rmSync(work, { recursive: true, force: true });
    console.log(`${shardCount} shard(s): ${count.toLocaleString('en-US')} records${repeats ? ` + ${repeats.toLocaleString('en-US')} cross-shard repeats` : ''}, ${(bytes / 1e6).toFixed(1)} MB (written and uploaded in ${((Date.now() - t0) / 1000).toFixed(1)} s); MariaDB buffer pool ${bufferPoolMb} MB; batch ${arg('--batch', '500')} rows`);
    const trigger = await provisionTrigger(moto, db);
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
      // The RDS-managed secret's shape (username, password); host, port and name come from the environment.
      DB_SECRET_ARN: trigger.secretArn, DB_HOST: db.host, DB_PORT: String(db.port), DB_NAME: db.database,
      PROCESSED_BUCKET: BUCKET, PROCESSED_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/bench', LOADER_BATCH_SIZE: arg('--batch', '500'), POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_TRACE_ENABLED: 'false',
      // The handler's gate and trigger (stacks/reporting/functions.ts gives it the same names).
      JOB_STATUS_TABLE: STATUS_TABLE, STATE_MACHINE_ARN: trigger.stateMachineArn, ALERTS_TOPIC_ARN: trigger.topicArn, ENVIRONMENT: 'bench',
    };
    Object.assign(process.env, env);
    const { handler: migrate } = await import('../lambda-src/report-migrate');
    await migrate();
    const { closeDb } = await import('../lambda-src/shared/db');
    await closeDb();
    const runs: Array<[string, string]> = variants.map((v) => [v, 'lambda-src/report-loader/index.ts']);
    if (extra) runs.push(['module', extra]);
    console.log(`${'variant'.padEnd(44)} ${'wall s'.padStart(8)} ${'peak RSS MB'.padStart(12)}  result`);
    for (const [variant, modulePath] of runs) {
      await db.query(`TRUNCATE TABLE \`${db.database}\`.transactions`);
      const r = await runChild(variant, modulePath, env);
      const label = variant === 'module' ? `module ${modulePath}` : variant === 'tx' ? 'tx (handler: one transaction)' : 'staging (stage table + one merge)';
      console.log(`${label.padEnd(44)} ${r.wall.toFixed(1).padStart(8)} ${r.peakRssMb.toFixed(0).padStart(12)}  ${JSON.stringify(r.result)}${r.code === 0 ? '' : ` (exit ${r.code})`}`);
    }
  } finally {
    await Promise.all([moto.stop(), db.destroy()]);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
