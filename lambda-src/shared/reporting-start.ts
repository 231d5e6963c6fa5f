/**
 * Starting the reporting workflow for a loaded run: one execution per run, with a deterministic name
 * (domain/reporting/run-dates.ts), so a retried load or a duplicate completion notification never
 * starts a second one. Step Functions answers a repeat of a running execution (same name and input)
 * with that execution, and a repeat of a finished one (or other input) with ExecutionAlreadyExists:
 * both mean "already started" here.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { reportingExecutionName } from '../../domain/reporting/run-dates';
import { localEndpoint } from './clients';
import { classifyError } from './errors';
import { traced } from './powertools';

let client: { endpoint: string; sfn: SFNClient } | undefined;

/** Lazily created once per container, pointed at AWS_ENDPOINT_URL when set (local servers only). */
export function sfn(): SFNClient {
  const endpoint = localEndpoint() ?? 'aws';
  if (client?.endpoint !== endpoint) {
    client = { endpoint, sfn: traced(new SFNClient(endpoint === 'aws' ? { maxAttempts: 3 } : { endpoint, maxAttempts: 3 })) };
  }
  return client.sfn;
}

/** The workflow input for a run: a backfill-style `reportDate` (the workflow uses it as given) plus the run. */
export interface ReportingInput {
  reportDate: string;
  runId: string;
}

export interface ReportingStart {
  status: 'STARTED' | 'ALREADY_STARTED';
  executionName: string;
  executionArn: string;
}

/** `arn:…:stateMachine:<name>` -> `arn:…:execution:<name>:<execution>`. */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

export async function startReporting(stateMachineArn: string, input: ReportingInput): Promise<ReportingStart> {
  const executionName = reportingExecutionName(input.runId, input.reportDate);
  try {
    // Key order fixed: the same run always sends byte-identical input, which Step Functions needs to
    // treat a repeat of a running execution as the same request.
    const res = await sfn().send(new StartExecutionCommand({
      stateMachineArn, name: executionName, input: JSON.stringify({ reportDate: input.reportDate, runId: input.runId }),
    }));
    return { status: 'STARTED', executionName, executionArn: res.executionArn ?? executionArnOf(stateMachineArn, executionName) };
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionAlreadyExists') {
      return { status: 'ALREADY_STARTED', executionName, executionArn: executionArnOf(stateMachineArn, executionName) };
    }
    throw classifyError(err, 'StartExecution (reporting workflow)');
  }
}
