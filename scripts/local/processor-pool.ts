/**
 * Plays AWS Batch for the submitted processor jobs: each array child is the real container entry
 * (processor/src/main.ts, no arguments = container mode) in its own process, with the job's merged
 * environment as Batch hands it over (job definition + overrides + AWS_BATCH_JOB_ARRAY_INDEX/ID/ATTEMPT),
 * at most `parallel` at once, and the job definition's retry strategy applied to the exit code.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { EvaluateOnExit } from '../../stacks/compute/job-definition';

const ROOT = path.resolve(__dirname, '..', '..');

export interface SubmittedJob {
  batchJobId: string;
  batchJobArn: string;
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  /** Container environment after overrides, as DescribeJobs reports it. */
  environment: Record<string, string>;
  /** Array size; 0 for a single (non-array) job. */
  arraySize: number;
  createdAt: number;
}

export interface ChildRun {
  job: SubmittedJob;
  index: number | undefined;
  attempts: { exitCode: number; startedAt: number; stoppedAt: number }[];
  status: 'SUCCEEDED' | 'FAILED';
  /** Counts from the shard's own "shard succeeded" log line (the job-status table is the record). */
  counts?: { read: number; accepted: number; rejected: number; duplicates: number };
}

export interface PoolOptions {
  parallel: number;
  attempts: number;
  evaluateOnExit: readonly EvaluateOnExit[];
  baseEnv: Record<string, string>;
  log: fs.WriteStream;
  onChildDone?: (run: ChildRun) => void;
  /** Records read so far by a running shard (from its periodic progress log line). */
  onChildProgress?: (tag: string, records: number) => void;
}

const active = new Set<ChildProcess>();
let stopping = false;

/**
 * SIGTERM to every running shard (Ctrl-C): they record the interruption and exit 143. No new shard
 * or retry starts afterwards (143 is retryable, and a retry would outlive the run).
 */
export function terminateChildren(): Promise<void> {
  stopping = true;
  const waits = [...active].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  }));
  return Promise.all(waits).then(() => undefined);
}

/** Batch's evaluateOnExit: first match wins; no match means RETRY. */
export function retryAction(rules: readonly EvaluateOnExit[], exitCode: number, reason = 'Essential container in task exited'): 'RETRY' | 'EXIT' {
  const glob = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
  for (const r of rules) {
    if (r.onExitCode !== undefined && !glob(r.onExitCode, String(exitCode))) continue;
    if (r.onStatusReason !== undefined && !glob(r.onStatusReason, reason)) continue;
    if (r.onReason !== undefined && !glob(r.onReason, reason)) continue;
    return r.action;
  }
  return 'RETRY';
}

function runOnce(env: Record<string, string>, log: fs.WriteStream, tag: string, onProgress?: (records: number) => void): Promise<{ exitCode: number; counts?: ChildRun['counts'] }> {
  return new Promise((resolve, reject) => {
    if (stopping) return reject(new Error('local run is stopping: no new processor shard is started'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'processor', 'src', 'main.ts')], {
      cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'],
    });
    active.add(child);
    let counts: ChildRun['counts'];
    let partial = '';
    const onData = (b: Buffer) => {
      const text = partial + b.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log.write(`[${tag}] ${line}\n`);
        if (onProgress && line.includes('"msg":"progress"')) {
          try {
            onProgress(Number((JSON.parse(line) as { records?: number }).records) || 0);
          } catch {
            // not JSON: left in the log
          }
        }
        if (line.includes('"shard succeeded"')) {
          try {
            counts = (JSON.parse(line) as { counts?: ChildRun['counts'] }).counts;
          } catch {
            // not JSON: left in the log
          }
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => { active.delete(child); reject(err); });
    child.once('exit', (code, signal) => {
      active.delete(child);
      if (partial) log.write(`[${tag}] ${partial}\n`);
      resolve({ exitCode: code ?? (signal === 'SIGTERM' ? 143 : 137), counts });
    });
  });
}

export async function runJobs(jobs: SubmittedJob[], options: PoolOptions): Promise<ChildRun[]> {
  const tasks = jobs.flatMap((job) => (job.arraySize > 0 ? Array.from({ length: job.arraySize }, (_, i) => ({ job, index: i as number | undefined })) : [{ job, index: undefined }]));
  const runs: ChildRun[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !stopping) {
      const { job, index } = tasks[next++];
      const run: ChildRun = { job, index, attempts: [], status: 'FAILED' };
      for (let attempt = 1; attempt <= options.attempts; attempt++) {
        const env: Record<string, string> = {
          ...options.baseEnv,
          ...job.environment,
          AWS_BATCH_JOB_ID: index === undefined ? job.batchJobId : `${job.batchJobId}:${index}`,
          AWS_BATCH_JOB_ATTEMPT: String(attempt),
          AWS_BATCH_JQ_NAME: job.jobQueue.split('/').pop() ?? job.jobQueue,
        };
        // Batch sets the array index only for children of an array job.
        if (index !== undefined) env.AWS_BATCH_JOB_ARRAY_INDEX = String(index);
        const startedAt = Date.now();
        const tag = `${job.jobName}${index === undefined ? '' : `:${index}`}`;
        const result = await runOnce(env, options.log, `${tag}#${attempt}`, (records) => options.onChildProgress?.(tag, records));
        run.attempts.push({ exitCode: result.exitCode, startedAt, stoppedAt: Date.now() });
        run.counts = result.counts ?? run.counts;
        if (result.exitCode === 0) {
          run.status = 'SUCCEEDED';
          break;
        }
        if (stopping || retryAction(options.evaluateOnExit, result.exitCode) === 'EXIT') break;
      }
      runs.push(run);
      options.onChildDone?.(run);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, tasks.length)) }, worker));
  return runs;
}
