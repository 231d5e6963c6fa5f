/**
 * EventBridge events the local run feeds to handlers, shaped as AWS delivers them: "Batch Job State
 * Change" (detail = the DescribeJobs job, as Batch publishes it) and SES "Email Delivered" (detail =
 * the SES event record, with the message's tags).
 */
import { randomUUID } from 'crypto';
import type { ChildRun, SubmittedJob } from './processor-pool';

function envelope(source: string, detailType: string, account: string, region: string, detail: object, resources: string[]): object {
  return { version: '0', id: randomUUID(), 'detail-type': detailType, source, account, time: new Date().toISOString(), region, resources, detail };
}

function statusSummary(children: ChildRun[]): Record<string, number> {
  const s = { STARTING: 0, FAILED: 0, RUNNING: 0, SUCCEEDED: 0, RUNNABLE: 0, SUBMITTED: 0, PENDING: 0 };
  for (const c of children) s[c.status]++;
  return s;
}

/** One event per array child, then the parent's (Batch publishes both), in the order Batch would. */
export function batchJobEvents(job: SubmittedJob, children: ChildRun[], account: string, region: string): object[] {
  const environment = Object.entries(job.environment).map(([name, value]) => ({ name, value }));
  const detail = (jobId: string, jobArn: string, status: string, runs: ChildRun[], extra: object) => {
    const attempts = runs.flatMap((r) => r.attempts.map((a) => ({ startedAt: a.startedAt, stoppedAt: a.stoppedAt, container: { exitCode: a.exitCode } })));
    const last = runs.length === 1 ? runs[0].attempts[runs[0].attempts.length - 1] : undefined;
    return {
      jobArn, jobName: job.jobName, jobId, jobQueue: job.jobQueue, status,
      statusReason: status === 'FAILED' ? 'Essential container in task exited' : undefined,
      attempts, createdAt: job.createdAt,
      startedAt: Math.min(...attempts.map((a) => a.startedAt)), stoppedAt: Math.max(...attempts.map((a) => a.stoppedAt)),
      dependsOn: [], jobDefinition: job.jobDefinition, parameters: {},
      container: { environment, ...(last ? { exitCode: last.exitCode } : {}) },
      tags: {}, propagateTags: true, platformCapabilities: ['FARGATE'],
      ...extra,
    };
  };
  const events: object[] = [];
  if (job.arraySize > 0) {
    for (const child of [...children].sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
      const id = `${job.batchJobId}:${child.index}`;
      const arn = `${job.batchJobArn}:${child.index}`;
      events.push(envelope('aws.batch', 'Batch Job State Change', account, region,
        detail(id, arn, child.status, [child], { arrayProperties: { index: child.index } }), [arn]));
    }
  }
  const status = children.every((c) => c.status === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
  events.push(envelope('aws.batch', 'Batch Job State Change', account, region,
    detail(job.batchJobId, job.batchJobArn, status, children,
      job.arraySize > 0 ? { arrayProperties: { size: job.arraySize, statusSummary: statusSummary(children) } } : {}), [job.batchJobArn]));
  return events;
}

export interface SentReport {
  reportId: string; messageId: string; recipient: string; jurisdiction: string; reportType: string;
  /** As report-deliver tags the message (modes.ts): mode used, configured mode, SHA-256, recipients of the report. */
  mode?: string; requestedMode?: string; sha256?: string; recipientCount?: number;
}

export function sesDeliveredEvent(sent: SentReport, source: string, configurationSet: string, account: string, region: string): object {
  const now = new Date().toISOString();
  return envelope('aws.ses', 'Email Delivered', account, region, {
    eventType: 'Delivery',
    mail: {
      timestamp: now, source, sendingAccountId: account, messageId: sent.messageId, destination: [sent.recipient],
      tags: {
        'ses:configuration-set': [configurationSet], 'ses:source-ip': ['127.0.0.1'],
        reportId: [sent.reportId], jurisdiction: [sent.jurisdiction], reportType: [sent.reportType],
        ...(sent.mode ? { deliveryMode: [sent.mode] } : {}),
        // report-confirm counts distinct delivered messages of one SHA-256 against recipientCount.
        ...(sent.recipientCount !== undefined && sent.sha256 ? {
          requestedMode: [sent.requestedMode ?? sent.mode ?? 'attachment'], sha256: [sent.sha256], recipientCount: [String(sent.recipientCount)],
        } : {}),
      },
    },
    delivery: { timestamp: now, recipients: [sent.recipient], processingTimeMillis: 250, smtpResponse: '250 2.6.0 Message received', reportingMTA: 'local' },
  }, []);
}
