/**
 * CloudWatch metric namespaces: the one place they are written down. Handlers emit into them (EMF),
 * and the stacks' alarms and dashboards watch the same names, so both import them from here; nothing
 * else spells a namespace. Pure constants: safe to import from stacks/ and scripts/ (no SDK, no env).
 */

/** The nightly batch: job outcomes, run completion and lateness, reporting input missing. */
export const NIGHTLY_NAMESPACE = 'FinancialBatch';
/** Regulatory reporting: delivery outcomes. */
export const REPORTING_NAMESPACE = 'RegulatoryReporting';

/** Each Lambda entry (lambda-src/<entry>/index.ts) and the namespace its metrics (ColdStart included) go to. */
export const FUNCTION_NAMESPACES = {
  orchestrator: NIGHTLY_NAMESPACE,
  ingest: NIGHTLY_NAMESPACE,
  'job-events': NIGHTLY_NAMESPACE,
  'run-deadline': NIGHTLY_NAMESPACE,
  'report-migrate': REPORTING_NAMESPACE,
  'report-loader': REPORTING_NAMESPACE,
  'report-generate': REPORTING_NAMESPACE,
  'report-validate': REPORTING_NAMESPACE,
  'report-deliver': REPORTING_NAMESPACE,
  'report-confirm': REPORTING_NAMESPACE,
  'report-failure': REPORTING_NAMESPACE,
} as const;

export type FunctionEntry = keyof typeof FUNCTION_NAMESPACES;

/** Per-container cold starts (Powertools' metric name), one per function container, in the function's namespace. */
export const COLD_START_METRIC = 'ColdStart';
/** The dimension naming the function on ColdStart (Powertools' name), next to Environment. */
export const FUNCTION_NAME_DIMENSION = 'function_name';
