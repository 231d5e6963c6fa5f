import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import { KmsKey, serviceUseStatement } from './constructs/kms-key';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import type { NetworkStack } from './network-stack';
import type { DataStack } from './data-stack';
import { ReportingDatabase } from './reporting/aurora';
import { ReportingEmail } from './reporting/ses';
import { ReportingFunctions } from './reporting/functions';
import { migrationSet, MigrationsOnDeploy } from './reporting/migrations';
import { REPORTING_WORKFLOW, ReportingWorkflow } from './reporting/workflow';
import { ReportingAlarms } from './reporting/alarms';

export interface ReportingStackProps {
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/**
 * Regulatory reporting: the Step Functions workflow (started by report-loader once a complete night is
 * loaded -> Distributed Map over every jurisdiction x report type x entity -> generate -> validate ->
 * deliver -> confirm), its Lambdas, Aurora MySQL Serverless v2 with migrations applied on deploy, SES
 * with delivery events, alarms. The reporting time is a deadline run-deadline checks (compute stack).
 */
export class ReportingStack extends PlatformStack {
  readonly database: ReportingDatabase;
  readonly email: ReportingEmail;
  readonly functions: ReportingFunctions;
  readonly workflow: ReportingWorkflow;
  readonly alarms: ReportingAlarms;
  readonly functionKey: KmsKey;
  readonly confirmDeadLetterQueue: DeadLetterQueue;
  readonly loaderDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: ReportingStackProps) {
    super(scope, id, cfg);
    const { network, data } = props;

    this.functionKey = new KmsKey(this, 'function-key', {
      alias: this.name('reporting'),
      description: 'Reporting Lambda environment variables and reporting dead-letter queues',
      accountId: this.accountId,
      // EventBridge writes undeliverable SES events to the encrypted DLQ as itself.
      statements: [serviceUseStatement('EventBridgeDeadLetters', 'events.amazonaws.com',
        { StringEquals: { 'aws:SourceAccount': this.accountId } }, ['kms:GenerateDataKey', 'kms:Decrypt'])],
    });
    const deliveryEventsRule = this.name('report-delivery-events');
    // SES delivery events EventBridge could not hand to report-confirm (the rule is admitted by ARN,
    // built from its name: the queue policy must exist before the rule's target names the queue).
    this.confirmDeadLetterQueue = new DeadLetterQueue(this, 'delivery-events-dlq', {
      queueName: this.name('report-delivery-events-dlq'),
      kmsKeyArn: this.functionKey.arn,
      accountId: this.accountId,
      eventBridgeRuleArns: [`arn:${this.partition}:events:${this.region}:${this.accountId}:rule/${deliveryEventsRule}`],
    });
    this.loaderDeadLetterQueue = new DeadLetterQueue(this, 'loader-dlq', {
      queueName: this.name('report-loader-dlq'),
      kmsKeyArn: this.functionKey.arn,
      accountId: this.accountId,
    });

    this.database = new ReportingDatabase(this, 'database', {
      clusterIdentifier: this.name('reporting-db'),
      keyAlias: this.name('reporting-db'),
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.databaseSecurityGroupId,
      logsKeyArn: data.logsKey.arn,
    });

    this.email = new ReportingEmail(this, 'email', {
      identity: cfg.reporting.sesIdentity,
      configurationSetName: this.name('reports'),
    });

    this.functions = new ReportingFunctions(this, 'functions', {
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.reportingLambdaSecurityGroupId,
      database: this.database,
      email: this.email,
      data,
      functionKeyArn: this.functionKey.arn,
      confirmDeadLetterQueueArn: this.confirmDeadLetterQueue.arn,
      loaderDeadLetterQueueArn: this.loaderDeadLetterQueue.arn,
    });
    this.email.routeEventsTo(this.functions.confirm, this.confirmDeadLetterQueue, deliveryEventsRule);

    new MigrationsOnDeploy(this, 'migrations', {
      fn: this.functions.migrate,
      set: migrationSet(),
      dependsOn: [this.database.writer],
    });

    const f = this.functions;
    this.workflow = new ReportingWorkflow(this, 'workflow', {
      stateMachineName: this.name(REPORTING_WORKFLOW),
      functions: { generate: f.generate, validate: f.validate, deliver: f.deliver, confirm: f.confirm, failure: f.failure },
      data,
    });

    // The loader starts the workflow, so it is built after it (the workflow invokes only the five
    // report functions, never the loader: no cycle).
    this.functions.addLoader({
      stateMachine: { arn: this.workflow.arn, arnFromName: this.workflow.stateMachineArn, keyArn: this.workflow.key.arn },
    });
    // The loader runs when the nightly batch run completes: it subscribes to job-events' RUN_COMPLETED
    // notification on the data stack's batch-alerts topic (listening keeps reporting independent of
    // compute: no reference to the compute stack, so the stack graph stays a DAG).
    const loaderPermission = new LambdaPermission(this, 'loader-from-batch-alerts', {
      statementId: 'AllowBatchAlertsTopic',
      action: 'lambda:InvokeFunction',
      functionName: this.functions.loader.functionName,
      principal: 'sns.amazonaws.com',
      sourceArn: data.batchAlertsTopic.arn,
    });
    new SnsTopicSubscription(this, 'loader-run-completed', {
      topicArn: data.batchAlertsTopic.arn,
      protocol: 'lambda',
      endpoint: this.functions.loader.arn,
      filterPolicyScope: 'MessageAttributes',
      filterPolicy: JSON.stringify({ event: ['RUN_COMPLETED'] }),
      // SNS may invoke the loader only once the permission exists.
      dependsOn: [loaderPermission],
    });

    this.alarms = new ReportingAlarms(this, 'alarms', {
      topicArn: data.reportingAlertsTopic.arn,
      stateMachineArn: this.workflow.arn,
      stateMachineNameArn: this.workflow.stateMachineArn,
      generateFunctionName: f.generate.functionName,
      validateFunctionName: f.validate.functionName,
    });

    const output = (outputId: string, value: string, description: string) => new TerraformOutput(this, outputId, { value, description });
    output('state_machine_arn', this.workflow.arn, 'Reporting workflow (Step Functions) ARN');
    output('reports_bucket', data.reportsBucket.name, 'Bucket holding generated reports and workflow run results');
    output('aurora_cluster_endpoint', this.database.endpoint, 'Reporting database writer endpoint');
    output('aurora_reader_endpoint', this.database.readerEndpoint, 'Reporting database reader endpoint');
    output('db_secret_arn', this.database.secretArn, 'RDS-managed master secret of the reporting database');
    output('reporting_topic_arn', data.reportingAlertsTopic.arn, 'Reporting alerts topic');
    output('report_loader_function', f.loader.functionName, 'Bulk-loads accepted records of a run into Aurora');
  }
}
