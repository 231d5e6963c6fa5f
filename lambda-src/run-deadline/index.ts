/**
 * run-deadline: fired by a schedule at the end of the nightly window (nightly start + windowHours).
 * Reads the run record of the night's run (job-status item `run#<runId>`, shared/run-record.ts; the run
 * id is the UTC date of the nightly start) and classifies it:
 *   SUCCEEDED  completed (completedAt set) with no failed job        -> NightlyRunLate 0, no alert
 *   FAILED     completed, but failedJobs > 0                          -> NightlyRunLate 1, alert
 *   LATE       the run record exists but the run has not completed    -> NightlyRunLate 1, alert
 *   MISSING    no run record (the run never started)                  -> NightlyRunLate 1, alert
 * The alert is a bounded SNS message with counts only (never file names or input content). The metric
 * (EMF, FinancialBatch / Environment) is what the nightly-run-late alarm watches, so a missed SNS
 * publish still pages.
 *
 * Reporting-deadline mode, `{ "check": "loaded", "time"?: "<ISO instant>" }`: fired at the reporting
 * time (schedules.dailyReporting). Reporting itself starts when report-loader has loaded the night's
 * run; this check only makes a night that is not loaded by then visible. It reads the run record of
 * the reporting day's run (domain/reporting/run-dates.ts: the run started that UTC day, which feeds
 * the previous business day) and, when `loadedAt` is missing, emits ReportingInputMissing 1 and one
 * bounded alert naming the run, its report date and how the run stands (SUCCEEDED but not yet loaded,
 * FAILED, LATE, MISSING); otherwise ReportingInputMissing 0 and no alert. `time` (the schedule's own
 * time, e.g. `<aws.scheduler.scheduled-time>`) defaults to the clock.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { PublishCommand } from '@aws-sdk/client-sns';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DateFormatError, parseInstant } from '../../domain/dates';
import { reportDateOfRun, runIdAtReportingDeadline } from '../../domain/reporting/run-dates';
import { sns } from '../shared/clients';
import { environmentOf } from '../shared/env';
import { classifyError, PermanentError } from '../shared/errors';
import { createLogger, createMetrics, powertoolsHandler } from '../shared/powertools';
import { getRunRecord, isRunComplete, RunRecord } from '../shared/run-record';
import { boundedJson, MAX_MESSAGE_BYTES } from '../shared/safe-text';

const logger = createLogger('run-deadline');

export type RunOutcome = 'SUCCEEDED' | 'FAILED' | 'LATE' | 'MISSING';

export interface DeadlineResult {
  runId: string;
  outcome: RunOutcome;
  alerted: boolean;
  /** The deadline checked against, ISO 8601 UTC. */
  deadline: string;
}

export interface DeadlineEnv {
  statusTable: string;
  topicArn: string;
  environment: string;
  windowHours: number;
}

function readEnv(): DeadlineEnv {
  const e = environmentOf('run-deadline');
  return { statusTable: e.JOB_STATUS_TABLE, topicArn: e.ALERTS_TOPIC_ARN, environment: e.ENVIRONMENT, windowHours: e.BATCH_WINDOW_HOURS };
}

/** The run the deadline belongs to: the UTC date of the nightly start, `windowHours` before the deadline. */
export function runIdFor(deadline: Date, windowHours: number): string {
  return new Date(deadline.getTime() - windowHours * 3600e3).toISOString().slice(0, 10);
}

export function classify(run: RunRecord | undefined): RunOutcome {
  if (!run) return 'MISSING';
  if (run.completedAt === undefined || !isRunComplete(run)) return 'LATE';
  return (run.failedJobs ?? 0) > 0 ? 'FAILED' : 'SUCCEEDED';
}

/**
 * The deadline instant: the scheduled event's `time` (EventBridge), else the injected clock. Any other
 * field is refused: this function is started by its schedule only.
 */
export function deadlineOf(event: unknown, now: () => Date): Date {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new PermanentError('run-deadline event must be a JSON object');
  const e = event as Record<string, unknown>;
  if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event') {
    try {
      return new Date(parseInstant(e.time, 'scheduled event time'));
    } catch (err) {
      if (err instanceof DateFormatError) throw new PermanentError(err.message);
      throw err;
    }
  }
  if (Object.keys(e).length) throw new PermanentError(`unsupported run-deadline event: ${Object.keys(e).length} unexpected field(s); expected a Scheduled Event or {}`);
  return now();
}

const SUMMARY_FIELDS = ['submittedJobs', 'terminalJobs'] as const;

export async function checkDeadline(event: unknown, now: () => Date = () => new Date(), env: DeadlineEnv = readEnv()): Promise<DeadlineResult> {
  const deadline = deadlineOf(event, now);
  const runId = runIdFor(deadline, env.windowHours);
  const run = await getRunRecord(env.statusTable, runId);
  const outcome = classify(run);
  const metrics = createMetrics('run-deadline', env.environment);
  metrics.addMetric('NightlyRunLate', MetricUnit.Count, outcome === 'SUCCEEDED' ? 0 : 1);
  metrics.publishStoredMetrics();
  const result: DeadlineResult = { runId, outcome, alerted: false, deadline: deadline.toISOString() };
  if (outcome === 'SUCCEEDED') {
    logger.info('nightly run completed within its window', { runId });
    return result;
  }
  // Counts only: job ids, file keys and error texts stay out of the notification.
  const counts = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, run?.[f]?.size ?? 0]));
  const message = {
    event: 'NIGHTLY_RUN_NOT_SUCCEEDED', runId, outcome, environment: env.environment, deadline: result.deadline,
    ...counts, failedJobs: run?.failedJobs ?? 0, succeededJobs: run?.succeededJobs ?? 0,
    startedAt: run?.startedAt !== undefined ? new Date(run.startedAt).toISOString() : null,
  };
  try {
    await sns().send(new PublishCommand({
      TopicArn: env.topicArn,
      Subject: `Nightly run ${runId} ${outcome} at the end of its ${env.windowHours}-hour window`,
      Message: boundedJson(message, MAX_MESSAGE_BYTES),
    }));
  } catch (err) {
    throw classifyError(err, 'SNS Publish (nightly run deadline)');
  }
  logger.warn('nightly run not succeeded at its deadline', { runId, outcome });
  return { ...result, alerted: true };
}

export interface LoadedCheckResult {
  check: 'loaded';
  runId: string;
  /** The report date the run feeds (null for a run id that is not a date; not the case for scheduled runs). */
  reportDate: string | null;
  loaded: boolean;
  /** How the run stands at the check (SUCCEEDED also when completed but not yet loaded). */
  runOutcome: RunOutcome;
  alerted: boolean;
  /** The instant checked, ISO 8601 UTC. */
  checkedAt: string;
}

/** `{check: "loaded", time?}`: the check instant (the event's strict `time`, else the clock). */
export function loadedCheckTimeOf(event: Record<string, unknown>, now: () => Date): Date {
  const extra = Object.keys(event).filter((k) => k !== 'check' && k !== 'time');
  if (extra.length) throw new PermanentError(`unsupported run-deadline loaded check: ${extra.length} unexpected field(s); accepted fields are check and time`);
  if (event.time === undefined) return now();
  try {
    return new Date(parseInstant(event.time, 'loaded check time'));
  } catch (err) {
    if (err instanceof DateFormatError) throw new PermanentError(err.message);
    throw err;
  }
}

/** Reporting deadline: is the night's run loaded into the reporting database (run record `loadedAt`)? */
export async function checkLoaded(event: Record<string, unknown>, now: () => Date = () => new Date(), env: DeadlineEnv = readEnv()): Promise<LoadedCheckResult> {
  const at = loadedCheckTimeOf(event, now);
  const runId = runIdAtReportingDeadline(at.getTime());
  const reportDate = reportDateOfRun(runId) ?? null;
  const run = await getRunRecord(env.statusTable, runId);
  const loaded = run?.loadedAt !== undefined;
  const runOutcome = classify(run);
  const metrics = createMetrics('run-deadline', env.environment);
  metrics.addMetric('ReportingInputMissing', MetricUnit.Count, loaded ? 0 : 1);
  metrics.publishStoredMetrics();
  const result: LoadedCheckResult = { check: 'loaded', runId, reportDate, loaded, runOutcome, alerted: false, checkedAt: at.toISOString() };
  if (loaded) {
    logger.info('the night feeding the report date is loaded', { runId, reportDate });
    return result;
  }
  const counts = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, run?.[f]?.size ?? 0]));
  const message = {
    event: 'REPORTING_INPUT_MISSING', runId, reportDate, runOutcome, environment: env.environment, checkedAt: result.checkedAt,
    ...counts, failedJobs: Number(run?.failedJobs ?? 0), succeededJobs: Number(run?.succeededJobs ?? 0),
    completedAt: run?.completedAt !== undefined ? new Date(Number(run.completedAt)).toISOString() : null,
  };
  try {
    await sns().send(new PublishCommand({
      TopicArn: env.topicArn,
      Subject: `Reporting input missing: run ${runId} (report date ${reportDate ?? 'none'}) not loaded, run ${runOutcome}`.slice(0, 100),
      Message: boundedJson(message, MAX_MESSAGE_BYTES),
    }));
  } catch (err) {
    throw classifyError(err, 'SNS Publish (reporting input missing)');
  }
  logger.warn('no loaded run for the report date at the reporting deadline', { runId, reportDate, runOutcome });
  return { ...result, alerted: true };
}

/** The reporting-deadline check's event (`time`: the schedule's own time; default the clock). */
export interface LoadedCheckEvent { check: 'loaded'; time?: string }
/** The nightly window's schedule, an on-demand `{}` (the clock), or the reporting-deadline check. */
export type RunDeadlineEvent = ScheduledEvent | Record<string, never> | LoadedCheckEvent;

/** `{check: "loaded", ...}` -> the reporting-deadline check; anything else -> the nightly window check. */
export const handler = powertoolsHandler('run-deadline', logger, (event: RunDeadlineEvent): Promise<DeadlineResult | LoadedCheckResult> => {
  // The types describe what arrives; they check nothing: each check parses its event strictly.
  const e = event as Record<string, unknown> | null;
  if (e !== null && typeof e === 'object' && !Array.isArray(e) && e.check !== undefined) {
    if (e.check !== 'loaded') return Promise.reject(new PermanentError('run-deadline check must be "loaded" (or absent for the nightly window check)'));
    return checkLoaded(e);
  }
  return checkDeadline(event);
});
