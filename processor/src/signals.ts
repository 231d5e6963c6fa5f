/**
 * SIGTERM handling: Batch sends SIGTERM and SIGKILLs ~30 s later. The abort signal stops reading,
 * aborts the multipart uploads and lets the job record the interruption; a second SIGTERM, or the
 * grace timer, exits 143 at once.
 */
import { EXIT_INTERRUPTED } from './errors';

export function installSigterm(onSignal: () => void, graceMs = 25_000): AbortController {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    onSignal();
    controller.abort();
    setTimeout(() => process.exit(EXIT_INTERRUPTED), graceMs).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return controller;
}
