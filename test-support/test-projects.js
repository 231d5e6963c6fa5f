/**
 * Which jest project each suite belongs to, by path (relative to the repository root). jest.config.js
 * builds its projects from these lists; __tests__/verify/jest-projects.test.ts holds every suite in
 * exactly one project.
 *
 * unit         pure logic and synthesized-Terraform assertions: no local servers, no subprocesses
 *              (test-support/unit-guard.ts makes child_process throw there). Everything not listed below.
 * integration  moto server, MariaDB, processor/CLI subprocesses, the local night.
 * tooling      the repository's tools: bench, lint rules (eslint), verify checks and CLI, diagram, checkov scan,
 *              cdktn compatibility, the synth CLI, Terraform itself.
 */
const INTEGRATION = [
  '__tests__/integration/local-run.test.ts',
  '__tests__/integration/local-helpers.test.ts',
  '__tests__/lambda-src/ingest.test.ts',
  '__tests__/lambda-src/job-events.test.ts',
  '__tests__/lambda-src/orchestrator.test.ts',
  '__tests__/lambda-src/replay.test.ts',
  '__tests__/lambda-src/report-delivery-modes.test.ts',
  '__tests__/lambda-src/reporting-data.test.ts',
  '__tests__/lambda-src/reporting-delivery-modes.test.ts',
  '__tests__/lambda-src/reporting-delivery.test.ts',
  '__tests__/lambda-src/reporting-trigger.test.ts',
  '__tests__/lambda-src/run-deadline.test.ts',
  '__tests__/lambda-src/run-totals.test.ts',
  '__tests__/processor/cli.test.ts',
  '__tests__/processor/s3-job.test.ts',
  '__tests__/processor/safety.test.ts',
  '__tests__/processor/workers.test.ts',
  '__tests__/stacks/reporting-workflow-moto.test.ts',
  '__tests__/verify/workflows.test.ts',
];

const TOOLING = [
  '__tests__/contracts/boundaries.test.ts',
  '__tests__/scripts/bench.test.ts',
  '__tests__/scripts/cdktn-compat.test.ts',
  '__tests__/scripts/cli-tools.test.ts',
  '__tests__/scripts/diagram.test.ts',
  '__tests__/security/scan.test.ts',
  '__tests__/stacks/lint-rule.test.ts',
  '__tests__/stacks/synth-cli.test.ts',
  '__tests__/stacks/external-tools.test.ts',
  '__tests__/verify/cli.test.ts',
  '__tests__/verify/determinism.test.ts',
  '__tests__/verify/events-schedules.test.ts',
  '__tests__/verify/iam-lint.test.ts',
  '__tests__/verify/operations-doc.test.ts',
  '__tests__/verify/production-synth.test.ts',
];

module.exports = { INTEGRATION, TOOLING };
