import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { GuarddutyDetector } from '@cdktf/provider-aws/lib/guardduty-detector';
import { GuarddutyDetectorFeature } from '@cdktf/provider-aws/lib/guardduty-detector-feature';
import { DataAwsGuarddutyDetector } from '@cdktf/provider-aws/lib/data-aws-guardduty-detector';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';

/** Protection plans enabled on a detector this stack creates (replaces the deprecated `datasources`). */
export const GUARDDUTY_FEATURES = ['S3_DATA_EVENTS', 'EBS_MALWARE_PROTECTION', 'LAMBDA_NETWORK_LOGS', 'RDS_LOGIN_EVENTS'] as const;

export interface GuardDutyBaselineProps {
  /** false = adopt the region's existing detector (e.g. managed by a delegated administrator). */
  readonly createDetector: boolean;
  /** Findings at or above this severity (1-8.9) notify the security topic. */
  readonly minSeverity: number;
  readonly alertTopicArn: string;
}

/** EventBridge pattern: GuardDuty findings at or above `minSeverity` (numeric matcher). */
export function guardDutyFindingPattern(minSeverity: number): Record<string, unknown> {
  return {
    source: ['aws.guardduty'],
    'detail-type': ['GuardDuty Finding'],
    detail: { severity: [{ numeric: ['>=', minSeverity] }] },
  };
}

/**
 * GuardDuty: a detector with the S3, EBS-malware, Lambda-network and RDS-login protection plans, or
 * the adopted detector (whose plans its administrator owns, so none are changed here), and a rule
 * that forwards findings at or above the configured severity to the security topic.
 */
export class GuardDutyBaseline extends PlatformPart {
  readonly detectorId: string;

  constructor(scope: Construct, id: string, p: GuardDutyBaselineProps) {
    super(scope, id, { keepIdInAddresses: true });
    if (!(p.minSeverity >= 1 && p.minSeverity <= 8.9)) {
      throw new Error(`GuardDutyBaseline ${id}: minSeverity must be between 1 and 8.9, got ${p.minSeverity}`);
    }
    if (p.createDetector) {
      const detector = new GuarddutyDetector(this, 'detector', { enable: true, findingPublishingFrequency: 'FIFTEEN_MINUTES' });
      for (const feature of GUARDDUTY_FEATURES) {
        new GuarddutyDetectorFeature(this, feature.toLowerCase().replace(/_/g, '-'), {
          detectorId: detector.id,
          name: feature,
          status: 'ENABLED',
        });
      }
      this.detectorId = detector.id;
    } else {
      this.detectorId = new DataAwsGuarddutyDetector(this, 'detector').id;
    }
    const rule = new CloudwatchEventRule(this, 'findings', {
      name: this.platform.name('guardduty-findings'),
      description: `GuardDuty findings with severity >= ${p.minSeverity} to the security topic`,
      eventPattern: JSON.stringify(guardDutyFindingPattern(p.minSeverity)),
    });
    new CloudwatchEventTarget(this, 'findings-to-topic', { rule: rule.name, targetId: 'security-topic', arn: p.alertTopicArn });
  }
}
