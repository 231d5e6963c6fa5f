/**
 * Which nightly run feeds which report date: the one rule shared by report-loader (which starts the
 * reporting workflow when a run is loaded), run-deadline (which checks at the reporting deadline that
 * the run has been loaded) and the local run.
 *
 * A nightly run's id is the UTC date of its start (the orchestrator's schedule: `2026-11-24` for the
 * run that starts at 00:00 UTC on 24 November). That run processes the files that landed before it,
 * i.e. the previous day's business, and feeds the report date
 *
 *     reportDateOfRun(runId) = previous business day (UTC, Mon-Fri) of runId
 *
 * which is exactly the date report-generate derived when the reporting schedule fired on the run's
 * day (previous business day of `runStartedAt`). So:
 *   run 2026-11-24 (Tue) -> 2026-11-23 (Mon);   run 2026-11-28 (Sat) -> 2026-11-27 (Fri);
 *   runs of Sun 2026-11-29 and Mon 2026-11-30 -> Fri 2026-11-27 as well (each re-reports Friday with
 *   what has been loaded by then, as the daily schedule did; report ids are per date, content is
 *   deterministic, and a report is re-sent only when its content changed).
 * A run id that is not a calendar date (an ad-hoc run started with `{runId: "..."}`) feeds no report
 * date: it is loaded but starts no reporting; an operator reports such data with a backfill
 * (`{"reportDate": "YYYY-MM-DD"}`) once a dated run for that date is loaded.
 * Holidays are not modelled (see previousBusinessDay).
 */
import { isCalendarDate, utcDateOf } from '../dates';
import { previousBusinessDay } from './report';

/** The report date a run feeds, or undefined for a run id that is not a calendar date. */
export function reportDateOfRun(runId: string): string | undefined {
  if (!isCalendarDate(runId)) return undefined;
  return previousBusinessDay(`${runId}T00:00:00.000Z`);
}

/**
 * The nightly run whose load the reporting deadline at `atMs` checks: the run started on the same
 * UTC day (the nightly starts at 00:00 UTC and the reporting deadline follows it on that day).
 */
export function runIdAtReportingDeadline(atMs: number): string {
  return utcDateOf(atMs);
}

/** Step Functions execution names: 1-80 characters of letters, digits, `-` and `_`. */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The reporting execution started for a loaded run: deterministic, so a retried load or a duplicate
 * completion notification starts nothing twice (Step Functions refuses a second execution of the same
 * name for 90 days). One execution per run, not per date: Saturday's, Sunday's and Monday's runs each
 * re-report Friday with what they loaded.
 */
export function reportingExecutionName(runId: string, reportDate: string): string {
  const name = `report-${reportDate}-run-${runId}`;
  if (!EXECUTION_NAME.test(name)) throw new Error(`reporting execution name for run ${runId} is not a valid execution name`);
  return name;
}
