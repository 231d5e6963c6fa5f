/**
 * Container entry point (bundled into one file by scripts/bundle-processor.mjs). With arguments it
 * behaves like the CLI; without, it reads the Batch job environment (contracts.md) and exits with the
 * code the job definition's retry strategy acts on.
 */
import { jobModule } from './aws-sdk';
import { runCli } from './cli';
import { jobClients } from './clients';
import { loadContainerConfig } from './config';
import { classifyError } from './errors';
import { jsonLogger } from './log';
import { installSigterm } from './signals';
import { isCheckWorker, runCheckWorker } from './validate-worker';

async function container(): Promise<number> {
  const boot = jsonLogger({ component: 'processor' });
  let cfg;
  try {
    cfg = loadContainerConfig();
  } catch (err) {
    const e = classifyError(err, 'config');
    boot.error('invalid configuration', { code: e.code, error: e.message, exitCode: e.exitCode });
    return e.exitCode;
  }
  const log = jsonLogger({ component: 'processor', jobId: cfg.jobId, runId: cfg.runId, shard: cfg.shard.index, shardCount: cfg.shard.count, attempt: cfg.attempt });
  const controller = installSigterm(() => log.warn('SIGTERM received: aborting uploads and recording the interruption'));
  let lastLog = 0;
  const result = await jobModule().runJob(cfg, jobClients(cfg.endpoint), {
    log,
    signal: controller.signal,
    onProgress: (p) => {
      if (Date.now() - lastLog < 30_000) return;
      lastLog = Date.now();
      log.info('progress', { records: p.records, bytes: p.bytes, totalBytes: p.totalBytes });
    },
  });
  return result.exitCode;
}

if (isCheckWorker()) {
  // A worker thread of the CSV record stage (validate-worker.ts), started from this same bundle.
  runCheckWorker();
} else {
  const run = process.argv.length > 2 ? runCli(process.argv.slice(2)) : container();
  run.then((code) => process.exit(code));
}
