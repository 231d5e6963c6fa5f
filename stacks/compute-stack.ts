import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { BatchComputeEnvironment } from '@cdktf/provider-aws/lib/batch-compute-environment';
import { BatchJobQueue } from '@cdktf/provider-aws/lib/batch-job-queue';
import { BatchJobDefinition } from '@cdktf/provider-aws/lib/batch-job-definition';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { Alarm } from './constructs/alarm';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import { NodejsFunction } from './constructs/nodejs-function';
import { NightlyBatch } from './compute/batch';
import { COMPUTE_FUNCTIONS, ComputeFunction, ComputeFunctions } from './compute/functions';
import { EventWiring, NightlyEvents } from './compute/schedules';
import { ComputeAlarms, slaWindow } from './compute/alarms';
import { NightlyDashboard } from './compute/dashboard';
import { TABLE_PURPOSES } from './data/tables';
import type { NetworkStack } from './network-stack';
import type { DataStack } from './data-stack';

export interface ComputeStackProps {
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/**
 * AWS Batch on Fargate for the nightly run, Lambda orchestration, SLA alarms and the dashboard.
 * Dead-letter queues live here, next to the consumers whose failures they hold (one per async Lambda
 * and one per EventBridge target), encrypted with the data stack's messaging key.
 */
export class ComputeStack extends PlatformStack {
  readonly repository: EcrRepository;
  readonly computeEnvironment: BatchComputeEnvironment;
  readonly jobQueue: BatchJobQueue;
  readonly jobDefinition: BatchJobDefinition;
  readonly functions: Record<ComputeFunction, NodejsFunction>;
  readonly deadLetterQueues: Record<string, DeadLetterQueue>;
  readonly events: EventWiring;
  readonly alarms: Alarm[];
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: ComputeStackProps) {
    super(scope, id, cfg);
    // Fail on an unusable schedule before building anything.
    const sla = slaWindow(cfg.schedules.nightlyBatch, cfg.batch.windowHours);
    const { data, network } = props;

    const batch = new NightlyBatch(this, 'batch', { data, subnetIds: network.privateSubnetIds, securityGroupId: network.batchSecurityGroupId });
    this.repository = batch.repository;
    this.computeEnvironment = batch.computeEnvironment;
    this.jobQueue = batch.jobQueue;
    this.jobDefinition = batch.jobDefinition;

    const fns = new ComputeFunctions(this, 'functions', {
      data,
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.lambdaSecurityGroupId,
      jobQueue: batch.jobQueue,
      jobDefinition: batch.jobDefinition,
    });
    this.functions = fns.functions;

    this.events = new NightlyEvents(this, 'events', {
      messagingKeyArn: data.messagingKey.arn,
      jobQueueArn: batch.jobQueue.arn,
      inputBucketName: data.inputBucket.name,
      paymentBucketName: data.paymentFilesBucket.name,
      orchestrator: fns.functions.orchestrator,
      ingest: fns.functions.ingest,
      jobEvents: fns.functions['job-events'],
      runDeadline: fns.functions['run-deadline'],
      deadlineSchedule: sla.deadlineSchedule,
    });
    this.deadLetterQueues = {
      ...fns.deadLetterQueues,
      'nightly-events': this.events.nightly.deadLetterQueue,
      'batch-state-events': this.events.batchStateChange.deadLetterQueue,
      'object-created-events': this.events.objectCreated.deadLetterQueue,
      'deadline-events': this.events.deadline.deadLetterQueue,
      'reporting-deadline-events': this.events.reportingDeadline.deadLetterQueue,
    };
    // Literal names (not tokens) in alarms and the dashboard: they are derived, and stay readable.
    const functionNames = COMPUTE_FUNCTIONS.map((f) => ({ id: f, functionName: this.name(f) }));
    const queueNames = Object.entries(this.deadLetterQueues).map(([q, dlq]) => ({ id: q, queueName: dlq.queueName }));

    this.alarms = new ComputeAlarms(this, 'alarms', {
      topicArn: data.batchAlertsTopic.arn,
      reportingTopicArn: data.reportingAlertsTopic.arn,
      functions: functionNames,
      deadLetterQueues: queueNames,
      tables: Object.values(TABLE_PURPOSES).map((purpose) => ({ id: purpose, tableName: this.name(purpose) })),
      sla,
    }).alarms;
    this.dashboard = new NightlyDashboard(this, 'dashboard', {
      functionNames: functionNames.map((f) => f.functionName),
      queueNames: queueNames.map((q) => q.queueName),
    }).dashboard;
    this.outputs();
  }

  private outputs(): void {
    const out = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    out('ecr_repository_url', this.repository.repositoryUrl, 'Processor image repository (push immutable tags)');
    out('compute_environment_arn', this.computeEnvironment.arn, 'Batch Fargate compute environment');
    out('job_queue_arn', this.jobQueue.arn, 'Batch job queue of the nightly run');
    out('job_definition_arn', this.jobDefinition.arn, 'Processor job definition (current revision)');
    for (const [id, fn] of Object.entries(this.functions)) {
      const key = id.replace(/-/g, '_');
      out(`${key}_function_name`, fn.functionName, `${id} Lambda name`);
      out(`${key}_function_arn`, fn.arn, `${id} Lambda ARN`);
    }
    for (const [id, q] of Object.entries(this.deadLetterQueues)) {
      out(`${id.replace(/-/g, '_')}_dlq_url`, q.url, `${id} dead-letter queue`);
    }
    out('dashboard_name', this.dashboard.dashboardName, 'Nightly-run CloudWatch dashboard');
  }
}
