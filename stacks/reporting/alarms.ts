/**
 * Reporting alarms -> the reporting alerts topic. Thresholds are ">= 1" (team decision (a)12): a failed
 * regulatory report is always worth a look.
 */
import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { REPORTING_NAMESPACE as METRICS_NAMESPACE } from '../../contracts/metric-names';
import { MAP_RUN_LABEL } from './workflow-definition';

export const DELIVERY_METRIC = 'ReportsDelivered';
/** Dimension set report-confirm emits ReportsDelivered with (docs/contracts.md). */
export const DELIVERY_DIMENSIONS = ['Jurisdiction', 'ReportType', 'Status'] as const;

/**
 * Metrics Insights query over every ReportsDelivered series with exactly the contracted dimension set
 * and Status=DELIVERY_FAILED, summed into one series: one alarm covers every jurisdiction/type,
 * including ones added later (an alarm on a metric with 1 of its 3 dimensions
 * matches nothing; SEARCH expressions cannot back an alarm).
 */
export function deliveryFailureQuery(namespace = METRICS_NAMESPACE): string {
  return `SELECT SUM(${DELIVERY_METRIC}) FROM SCHEMA("${namespace}", ${DELIVERY_DIMENSIONS.join(', ')}) `
    + "WHERE Status = 'DELIVERY_FAILED'";
}

export interface ReportingAlarmsProps {
  readonly topicArn: string;
  readonly stateMachineArn: string;
  /** ARN built from the state machine's name: the children's metric dimension appends the Map Run label. */
  readonly stateMachineNameArn: string;
  readonly generateFunctionName: string;
  readonly validateFunctionName: string;
}

export class ReportingAlarms extends PlatformPart {
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: ReportingAlarmsProps) {
    super(scope, id, { keepIdInAddresses: true });
    const { platform } = this;
    const common = {
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      alarmActions: [props.topicArn],
      okActions: [props.topicArn],
    };
    const simple = (alarmId: string, purpose: string, description: string, namespace: string, metricName: string,
      dimensions: Record<string, string>, period: number) => {
      this.alarms.push(new CloudwatchMetricAlarm(this, alarmId, {
        alarmName: platform.name(purpose),
        alarmDescription: description,
        namespace,
        metricName,
        dimensions,
        statistic: 'Sum',
        period,
        ...common,
      }));
    };
    const sm = { StateMachineArn: props.stateMachineArn };
    simple('executions-failed', 'reporting-executions-failed', 'A reporting run failed as a whole (map run failure, already notified)',
      'AWS/States', 'ExecutionsFailed', sm, 300);
    simple('executions-timed-out', 'reporting-executions-timed-out', 'A reporting run timed out', 'AWS/States', 'ExecutionsTimedOut', sm, 300);
    // Distributed Map children report under `<state machine ARN>/<Map Run label>`: one per failed report.
    simple('reports-failed', 'reports-failed', 'One or more reports failed (each recorded in report_log and notified)',
      'AWS/States', 'ExecutionsFailed', { StateMachineArn: `${props.stateMachineNameArn}/${MAP_RUN_LABEL}` }, 3600);
    simple('generate-errors', 'report-generate-errors', 'report-generate raised errors (each is retried, then recorded)',
      'AWS/Lambda', 'Errors', { FunctionName: props.generateFunctionName }, 3600);
    simple('validate-errors', 'report-validate-errors', 'report-validate raised errors (each is retried, then recorded)',
      'AWS/Lambda', 'Errors', { FunctionName: props.validateFunctionName }, 3600);

    this.alarms.push(new CloudwatchMetricAlarm(this, 'delivery-failures', {
      alarmName: platform.name('report-delivery-failures'),
      alarmDescription: 'SES reported bounced, complained or rejected report emails (ReportsDelivered Status=DELIVERY_FAILED)',
      metricQuery: [{ id: 'failed', expression: deliveryFailureQuery(), period: 3600, returnData: true, label: 'Failed deliveries' }],
      ...common,
    }));
  }
}
