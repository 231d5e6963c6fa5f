/**
 * The nightly chain on local servers, stage by stage: generate -> upload -> orchestrator -> processor
 * shards -> job events -> schema + loader -> reporting workflow -> SES delivery events. Every stage
 * drives the real code; this module only plays the AWS parts moto cannot (running Batch containers,
 * EventBridge delivery, the Step Functions engine).
 *
 * Reporting starts as in AWS: the loader, after loading the completed run, calls StartExecution on the
 * reporting state machine in moto (created here with the real definition; moto records the execution
 * without running it). The chain reads that execution back (name, input) and interprets the real
 * definition with exactly that input. No execution, no reporting.
 * `--night` plays the reporting deadline (run-deadline `{check: "loaded"}` at the configured reporting
 * time of the run's day): on-time (checked after the load: quiet), late (checked while the run is
 * still processing: alert; reporting starts later, from the load), missing (no nightly run at all:
 * alert, and report-generate refuses the report date).
 */
import * as fs from 'fs';
import * as path from 'path';
import { BatchClient, DescribeJobsCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { PlatformConfig } from '../../stacks/config';
import { EVALUATE_ON_EXIT } from '../../stacks/compute/job-definition';
import { buildWorkflowDefinition } from '../../stacks/reporting/workflow-definition';
import { generate, Manifest } from '../generate-transactions';
import { reportDateOfRun } from '../../domain/reporting/run-dates';
import { runOutputPrefix, runSummaryKey } from '../../contracts/buckets';
import { parseCommit, shardDirsOf, SUMMARY, verifyAccepted } from '../../lambda-src/shared/shard-outputs';
import { AslInterpreter } from './asl-interpreter';
import { awsQuery, xmlValue } from './aws-raw';
import type { Json } from './asl-paths';
import { batchJobEvents, SentReport, sesDeliveredEvent } from './events';
import type { LambdaRuntime } from './handlers';
import { ChildRun, runJobs, SubmittedJob } from './processor-pool';
import type { Provisioned } from './resources';
import type { Progress } from './progress';
import type { LocalRunArgs } from './args';

/** What one night runs with: the command line's data shape plus the resolved run id, folder and config. */
export interface ChainOptions extends Pick<LocalRunArgs, 'night' | 'count' | 'shards' | 'badShare' | 'seed' | 'crossShardDuplicates'> {
  runId: string;
  workDir: string;
  cfg: PlatformConfig;
  reporting: Pick<PlatformConfig['reporting'], 'jurisdictions' | 'reportTypes' | 'entities' | 'mapMaxConcurrency'>;
}

export interface ChainContext {
  endpoint: string;
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  provisioned: Provisioned;
  lambdas: LambdaRuntime;
  /** Environment every child process and handler needs to reach moto. */
  awsEnv: Record<string, string>;
  log: fs.WriteStream;
  progress: Progress;
}

export interface ChainResult {
  manifest: Manifest;
  inputKey: string;
  inputBytes: number;
  jobs: SubmittedJob[];
  children: ChildRun[];
  jobItems: Record<string, unknown>[];
  runRecord?: Record<string, unknown>;
  shardSummaries: { counts: { read: number; accepted: number; rejected: number; duplicates: number }; totals: { byCurrency: Record<string, { amountMinor: string }> } }[];
  loaded?: { rows?: number; crossShardDuplicates?: number; reportDate?: string | null; reporting?: { status: string; executionName?: string; executionArn?: string; reason?: string } };
  /** `processed/<runId>/run-summary.json` the loader wrote: the run's exact figures (absent when nothing was loaded). */
  runSummary?: RunSummaryFile;
  /** run-deadline's reporting check, as the schedule fires it. */
  deadline?: { loaded: boolean; alerted: boolean; runOutcome: string; reportDate: string | null; checkedAt: string; when: 'before-load' | 'after-load' | 'no-run' };
  /** The execution the loader started in moto (absent: the loader started none). */
  execution?: { name: string; input: unknown };
  /** A missing night: what report-generate answered for the expected report date. */
  refusal?: string;
  reporting?: { status: string; error?: string; total: number; succeeded: number; failed: number };
  sent: SentReport[];
  confirmations: { reportId: string; status: string }[];
}

/** report-loader's run-level figures (shards summed, cross-shard duplicates taken out). */
export interface RunSummaryFile {
  counts: { read: number; accepted: number; rejected: number; duplicatesWithinShards: number; crossShardDuplicates: number };
  totalsByCurrency: Record<string, { count: number; amountMinor: string }>;
}

/**
 * Rewrites the generated file so that `k` more valid records (generated with their own ids, `XD…`)
 * come first and again last: with two or more shards each repeat is in another shard than its first
 * occurrence, which only the run-level dedupe catches. The manifest then counts the repeats as
 * duplicates and the records once.
 */
async function addCrossShardDuplicates(file: string, manifest: Manifest, k: number, options: Parameters<typeof generate>[0]): Promise<void> {
  const extraFile = `${file}.cross-shard`;
  const extra = await generate({ ...options, count: k, out: extraFile, badShare: 0, seed: options.seed === undefined ? 1 : options.seed + 1 });
  const [extraHeader, ...extraLines] = fs.readFileSync(extraFile, 'utf8').split('\n').filter((l) => l !== '');
  fs.rmSync(extraFile);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4096);
  const headBytes = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const nl = head.subarray(0, headBytes).indexOf(0x0a);
  if (nl < 0 || head.subarray(0, nl).toString('utf8') !== extraHeader) throw new Error('cross-shard duplicates: the two generated files have different headers');
  if (extra.valid !== k || extraLines.length !== k) throw new Error(`cross-shard duplicates: expected ${k} valid records, got ${extra.valid}`);
  const block = extraLines.map((l) => l.replace(/^TX/, 'XD')).join('\n') + '\n';
  const out = `${file}.tmp`;
  fs.writeFileSync(out, `${extraHeader}\n${block}`);
  await new Promise<void>((resolve, reject) => {
    const w = fs.createWriteStream(out, { flags: 'a' });
    fs.createReadStream(file, { start: nl + 1 }).on('error', reject).pipe(w).on('finish', resolve).on('error', reject);
  });
  fs.appendFileSync(out, block);
  fs.renameSync(out, file);
  manifest.count += 2 * k;
  manifest.valid += k;
  manifest.acceptedCount += k;
  manifest.bad.duplicate = (manifest.bad.duplicate ?? 0) + k;
  for (const [currency, minor] of Object.entries(extra.totalsMinor)) {
    manifest.totalsMinor[currency] = (BigInt(manifest.totalsMinor[currency] ?? '0') + BigInt(minor)).toString();
  }
}

async function bodyText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToString();
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** The orchestrator's jobs for the run (job-status table) and what Batch holds for each (DescribeJobs). */
async function submittedJobs(ddb: DynamoDBDocumentClient, batch: BatchClient, table: string, runId: string): Promise<{ items: Record<string, unknown>[]; run?: Record<string, unknown>; jobs: SubmittedJob[] }> {
  let items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, FilterExpression: 'runId = :r', ExpressionAttributeValues: { ':r': runId }, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  // The run's own completion record (recordType RUN) shares the table with the job items.
  const run = items.find((i) => i.recordType === 'RUN');
  items = items.filter((i) => i.recordType !== 'RUN');
  const ids = items.map((i) => i.batchJobId).filter((v): v is string => typeof v === 'string');
  if (ids.length === 0) throw new Error(`orchestrator: no job with a batchJobId for run ${runId} in ${table}`);
  const jobs: SubmittedJob[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const res = await batch.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }));
    for (const j of res.jobs ?? []) {
      jobs.push({
        batchJobId: j.jobId!, batchJobArn: j.jobArn!, jobName: j.jobName!, jobQueue: j.jobQueue!, jobDefinition: j.jobDefinition!,
        environment: Object.fromEntries((j.container?.environment ?? []).filter((e) => !e.name!.startsWith('AWS_BATCH_')).map((e) => [e.name!, e.value ?? ''])),
        arraySize: j.arrayProperties?.size ?? 0,
        createdAt: j.createdAt ?? Date.now(),
      });
    }
  }
  return { items, run, jobs };
}


/** `cron(M H ...)` -> that time on `day` (UTC); the reporting deadline of the run's day. */
export function reportingDeadlineOn(day: string, schedule: string): string {
  const m = /^cron\((\d{1,2}) (\d{1,2}) /.exec(schedule);
  const hh = String(m ? Number(m[2]) : 1).padStart(2, '0');
  const mm = String(m ? Number(m[1]) : 0).padStart(2, '0');
  return `${day}T${hh}:${mm}:00Z`;
}

async function deadlineCheck(o: ChainOptions, c: ChainContext, when: NonNullable<ChainResult['deadline']>['when']): Promise<NonNullable<ChainResult['deadline']>> {
  const time = reportingDeadlineOn(o.runId, o.cfg.schedules.dailyReporting);
  return c.progress.stage('deadline', `run-deadline {check: "loaded"} at ${time} (schedules.dailyReporting)`, async () => {
    const out = (await c.lambdas.invoke('run-deadline', { check: 'loaded', time })) as Omit<NonNullable<ChainResult['deadline']>, 'when'>;
    return { value: { ...out, when }, detail: `${out.loaded ? 'loaded' : `NOT loaded (run ${out.runOutcome})`}, ${out.alerted ? 'alert published' : 'no alert'}` };
  });
}

/**
 * The reporting state machine in moto, with the real definition, so the loader's StartExecution is a
 * real call. moto only records executions here (execute_state_machine off): it cannot invoke the
 * local handlers; the chain interprets the execution it recorded.
 */
async function createStateMachine(o: ChainOptions, c: ChainContext): Promise<ReturnType<typeof buildWorkflowDefinition>> {
  const n = c.provisioned.names;
  const arns = {
    generate: n.functionArn('report-generate'), validate: n.functionArn('report-validate'), deliver: n.functionArn('report-deliver'),
    confirm: n.functionArn('report-confirm'), failure: n.functionArn('report-failure'),
  };
  const definition = buildWorkflowDefinition({ reporting: o.reporting, functions: arns, topicArn: n.topics.reportingAlerts, resultsBucket: n.buckets.reports });
  const res = await fetch(`${c.endpoint}/moto-api/config`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ batch: { use_docker: false }, lambda: { use_docker: false }, stepfunctions: { execute_state_machine: false } }),
  });
  if (!res.ok) throw new Error(`moto config failed: ${res.status}`);
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const role = xmlValue(await awsQuery(c.endpoint, 'iam', { Action: 'CreateRole', Version: '2010-05-08', RoleName: n.stateMachine.roleName, AssumeRolePolicyDocument: policy }), 'Arn')!;
  const sm = await new SFNClient(c.clientConfig).send(new CreateStateMachineCommand({ name: n.stateMachine.name, roleArn: role, definition: JSON.stringify(definition) }));
  if (sm.stateMachineArn !== n.stateMachine.arn) throw new Error(`state machine ARN ${sm.stateMachineArn} differs from the loader's STATE_MACHINE_ARN ${n.stateMachine.arn}`);
  return definition;
}

const NO_MANIFEST: Manifest = { count: 0, valid: 0, bad: {}, totalsMinor: {}, acceptedCount: 0, columns: [] };

/** A night whose run never started: the deadline alerts and report-generate refuses the report date. */
async function missingNight(o: ChainOptions, c: ChainContext): Promise<ChainResult> {
  const result: ChainResult = { manifest: NO_MANIFEST, inputKey: '', inputBytes: 0, jobs: [], children: [], jobItems: [], shardSummaries: [], sent: [], confirmations: [] };
  await c.progress.stage('migrate', 'report-migrate handler', async () => {
    const out = await c.lambdas.invoke('report-migrate', {});
    return { value: out, detail: JSON.stringify(out) };
  });
  await createStateMachine(o, c);
  result.deadline = await deadlineCheck(o, c, 'no-run');
  const reportDate = reportDateOfRun(o.runId)!;
  result.refusal = await c.progress.stage('refusal', `report-generate for ${reportDate} (a backfill of the missing night)`, async () => {
    const item = { jurisdiction: o.reporting.jurisdictions[0], reportType: o.reporting.reportTypes[0], entityId: o.reporting.entities[0], runStartedAt: new Date().toISOString(), reportDate };
    try {
      await c.lambdas.invoke('report-generate', item);
    } catch (err) {
      const text = `${(err as Error).name}: ${(err as Error).message}`;
      return { value: text, detail: text };
    }
    throw new Error(`report-generate produced a report for ${reportDate}, which no loaded run feeds`);
  });
  return result;
}

export async function runChain(o: ChainOptions, c: ChainContext): Promise<ChainResult> {
  if (o.night === 'missing') return missingNight(o, c);
  const { provisioned: p, progress } = c;
  const n = p.names;
  const s3 = new S3Client({ ...c.clientConfig, forcePathStyle: true });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(c.clientConfig));
  const batch = new BatchClient(c.clientConfig);

  // 1. A night of transactions, with the generator's own record of what a correct processor must find.
  const file = path.join(o.workDir, `transactions-${o.runId}.csv`);
  const manifest = await progress.stage('generate', `${o.count.toLocaleString('en-US')} records, bad share ${o.badShare}`, async () => {
    // Dated on the day the run feeds (domain/reporting/run-dates.ts) and spread over the configured
    // entities, so the reports carry the night's transactions.
    const options = { count: o.count, out: file, badShare: o.badShare, seed: o.seed, date: reportDateOfRun(o.runId), entities: o.reporting.entities };
    const m = await generate(options);
    const k = o.crossShardDuplicates ?? 0;
    if (k > 0) await addCrossShardDuplicates(file, m, k, options);
    return {
      value: m, count: m.count,
      detail: `${m.valid.toLocaleString('en-US')} valid, bad ${JSON.stringify(m.bad)}${k > 0 ? ` (${k} of the duplicates first and last in the file: cross-shard)` : ''}`,
    };
  });
  const inputBytes = fs.statSync(file).size;
  const inputKey = `transactions/${o.runId}/transactions-${o.runId}.csv`;
  await progress.stage('upload', `s3://${n.buckets.input}/${inputKey}`, async () => {
    await new Upload({
      client: s3,
      params: { Bucket: n.buckets.input, Key: inputKey, Body: fs.createReadStream(file), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: n.keys.s3 },
      partSize: 16 * 1024 * 1024,
    }).done();
    return { value: undefined, detail: `${(inputBytes / 1e6).toFixed(1)} MB` };
  });

  // 2. Orchestrator (in-process), exactly as the nightly schedule would call it. BYTES_PER_SHARD (an
  // optional knob of the orchestrator) makes it cut the file into --shards array children.
  c.lambdas.setEnv('orchestrator', 'BYTES_PER_SHARD', String(Math.max(1, Math.ceil(inputBytes / o.shards))));
  const orchestrated = await progress.stage('orchestrate', 'orchestrator handler -> Batch SubmitJob (moto)', async () => {
    const out = await c.lambdas.invoke('orchestrator', { runId: o.runId });
    const found = await submittedJobs(ddb, batch, n.tables.jobStatus, o.runId);
    const shards = found.jobs.reduce((s, j) => s + Math.max(1, j.arraySize), 0);
    return { value: { ...found, out }, detail: `${found.jobs.length} job(s), ${shards} shard(s)` };
  });

  // A late night: the reporting deadline fires while the shards are still to run.
  const lateCheck = o.night === 'late' ? await deadlineCheck(o, c, 'before-load') : undefined;

  // 3. The processor: one process per array child, Batch's retry strategy on the exit codes.
  const totalShards = orchestrated.jobs.reduce((s, j) => s + Math.max(1, j.arraySize), 0);
  const children = await progress.stage('process', `${totalShards} shard(s), ${o.shards} in parallel`, async () => {
    let done = 0;
    let records = 0;
    const running = new Map<string, number>();
    const show = () => {
      const live = [...running.values()].reduce((a, b) => a + b, 0);
      progress.tick(`${done}/${totalShards} shards done, ${(records + live).toLocaleString('en-US')} records`, records + live);
    };
    const runs = await runJobs(orchestrated.jobs, {
      parallel: o.shards,
      attempts: o.cfg.batch.attempts,
      evaluateOnExit: EVALUATE_ON_EXIT,
      baseEnv: c.awsEnv,
      log: c.log,
      onChildProgress: (tag, n) => { running.set(tag, n); show(); },
      onChildDone: (r) => {
        done++;
        running.delete(`${r.job.jobName}${r.index === undefined ? '' : `:${r.index}`}`);
        records += r.counts?.read ?? 0;
        show();
      },
      });
    const failed = runs.filter((r) => r.status !== 'SUCCEEDED').length;
    return { value: runs, detail: `${runs.length - failed} succeeded, ${failed} failed`, count: records };
  });

  // 4. Batch state changes as EventBridge delivers them to job-events.
  await progress.stage('job-events', 'Batch Job State Change -> job-events handler', async () => {
    let sent = 0;
    for (const job of orchestrated.jobs) {
      for (const event of batchJobEvents(job, children.filter((r) => r.job === job), n.account, n.region)) {
        await c.lambdas.invoke('job-events', event);
        sent++;
      }
    }
    return { value: undefined, detail: `${sent} event(s)` };
  });
  const after = await submittedJobs(ddb, batch, n.tables.jobStatus, o.runId);
  // Shard outputs are used only when committed and intact, as the loader uses them: summary.json
  // present, accepted.jsonl with exactly the bytes and SHA-256 it records. A mismatch stops the run.
  const shardSummaries = await progress.stage('verify', 'shard outputs against their summary.json (bytes, SHA-256)', async () => {
    const { committed, uncommitted } = shardDirsOf(await listKeys(s3, n.buckets.processed, runOutputPrefix(o.runId)));
    const summaries: ChainResult['shardSummaries'] = [];
    let lines = 0;
    for (const dir of committed) {
      const text = await bodyText(s3, n.buckets.processed, `${dir}/${SUMMARY}`);
      const shard = parseCommit(dir, text);
      const res = await s3.send(new GetObjectCommand({ Bucket: n.buckets.processed, Key: shard.acceptedKey }));
      lines += await verifyAccepted(res.Body as unknown as AsyncIterable<Uint8Array>, shard);
      summaries.push(JSON.parse(text));
    }
    const note = uncommitted.length ? `; ${uncommitted.length} shard(s) without summary.json ignored` : '';
    return { value: summaries, detail: `${committed.length} shard(s) verified, ${lines.toLocaleString('en-US')} accepted line(s)${note}`, count: lines };
  });
  const result: ChainResult = {
    manifest, inputKey, inputBytes, jobs: orchestrated.jobs, children, jobItems: after.items, runRecord: after.run, shardSummaries, sent: [], confirmations: [], deadline: lateCheck,
  };

  // 5. Reporting database: schema, then the run's accepted records.
  await progress.stage('migrate', 'report-migrate handler', async () => {
    const out = await c.lambdas.invoke('report-migrate', {});
    return { value: out, detail: JSON.stringify(out) };
  });
  const definition = await createStateMachine(o, c);
  result.loaded = await progress.stage('load', 'report-loader handler -> transactions table, then StartExecution (moto)', async () => {
    const out = (await c.lambdas.invoke('report-loader', { runId: o.runId })) as NonNullable<ChainResult['loaded']>;
    return {
      value: out, count: out?.rows,
      detail: `${out?.rows ?? 0} row(s) for report date ${out?.reportDate ?? '-'} (${out?.crossShardDuplicates ?? 0} cross-shard duplicate(s) skipped); reporting ${out?.reporting?.status}`,
    };
  });
  // The run's exact figures as the loader published them (read back like any consumer would).
  if (result.loaded?.rows !== undefined) {
    result.runSummary = JSON.parse(await bodyText(s3, n.buckets.processed, runSummaryKey(o.runId))) as RunSummaryFile;
  }
  if (o.night === 'on-time') result.deadline = await deadlineCheck(o, c, 'after-load');
  const executionArn = result.loaded?.reporting?.executionArn;
  if (!executionArn) return result;

  // 6. The reporting workflow the loader started: the REAL definition, interpreted locally with the
  // real handlers, on the input of the execution recorded in moto.
  const sfn = new SFNClient(c.clientConfig);
  const recorded = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  result.execution = { name: recorded.name!, input: JSON.parse(recorded.input ?? '{}') };
  const sns = new SNSClient(c.clientConfig);
  result.reporting = await progress.stage('reporting', `${o.reporting.jurisdictions.length * o.reporting.reportTypes.length * o.reporting.entities.length} report(s) through the workflow (execution ${recorded.name})`, async () => {
    let finished = 0;
    const interpreter = new AslInterpreter({
      invoke: async (resource, payload) => {
        const entry = c.lambdas.entryForArn(resource);
        if (entry) {
          const out = (await c.lambdas.invoke(entry, payload)) as Json;
          if (entry === 'report-deliver') {
            // One SES message per recipient of the report's jurisdiction: each gets its delivery event.
            type Delivery = { recipient: string; messageId: string; mode?: string; requestedMode?: string; sha256?: string };
            const d = out as { reportId: string; messageId: string; recipient: string; deliveries?: Delivery[] };
            const report = (payload as { report: { jurisdiction: string; reportType: string } }).report;
            const deliveries = d.deliveries?.length ? d.deliveries : [{ recipient: d.recipient, messageId: d.messageId }];
            for (const one of deliveries) {
              result.sent.push({
                reportId: d.reportId, messageId: one.messageId, recipient: one.recipient, jurisdiction: report.jurisdiction, reportType: report.reportType,
                mode: one.mode, requestedMode: one.requestedMode, sha256: one.sha256, recipientCount: d.deliveries?.length,
              });
            }
          }
          return out;
        }
        if (resource === 'arn:aws:states:::sns:publish') {
          const q = payload as { TopicArn: string; Subject?: string; Message: string };
          const r = await sns.send(new PublishCommand({ TopicArn: q.TopicArn, Subject: q.Subject, Message: q.Message }));
          return { MessageId: r.MessageId ?? null };
        }
        if (resource === 'arn:aws:states:::s3:putObject') {
          const q = payload as { Bucket: string; Key: string; Body: string };
          await s3.send(new PutObjectCommand({ Bucket: q.Bucket, Key: q.Key, Body: q.Body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: n.keys.s3 }));
          return {};
        }
        throw new Error(`no local resource for ${resource}`);
      },
      onState: (e) => {
        if (e.state === 'ReportDelivered' || e.state === 'ReportFailed') progress.tick(`${++finished} report(s) finished`, finished);
      },
    });
    const exec = await interpreter.execute(definition, result.execution!.input as Json, result.execution!.name);
    const runs = [...interpreter.mapRuns.values()];
    const summary = {
      status: exec.status, error: exec.error,
      total: runs.reduce((s, r) => s + r.total, 0), succeeded: runs.reduce((s, r) => s + r.succeeded, 0), failed: runs.reduce((s, r) => s + r.failed, 0),
    };
    return { value: summary, detail: `${exec.status}${exec.error ? ` (${exec.error})` : ''}: ${summary.succeeded}/${summary.total} reports succeeded`, count: summary.total };
  });

  // 7. SES delivery events, as EventBridge routes them from the configuration set to report-confirm.
  await progress.stage('confirm', 'SES "Email Delivered" events -> report-confirm', async () => {
    for (const sent of result.sent) {
      const event = sesDeliveredEvent(sent, o.cfg.reporting.sourceEmail, n.sesConfigurationSet, n.account, n.region);
      result.confirmations.push((await c.lambdas.invoke('report-confirm', event)) as { reportId: string; status: string });
    }
    return { value: undefined, detail: `${result.confirmations.length} event(s)`, count: result.confirmations.length };
  });
  return result;
}
