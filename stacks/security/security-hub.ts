import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { SecurityhubAccount } from '@cdktf/provider-aws/lib/securityhub-account';
import { SecurityhubStandardsSubscription } from '@cdktf/provider-aws/lib/securityhub-standards-subscription';

/** Standards ARNs (regional form); CIS v3.0.0 is the current CIS benchmark Security Hub offers. */
export function securityHubStandards(region: string, partition: string): Record<string, string> {
  return {
    fsbp: `arn:${partition}:securityhub:${region}::standards/aws-foundational-security-best-practices/v/1.0.0`,
    cis: `arn:${partition}:securityhub:${region}::standards/cis-aws-foundations-benchmark/v/3.0.0`,
  };
}

/**
 * Security Hub with FSBP and CIS: it aggregates Config and GuardDuty findings in one place. Created
 * only in "create" mode; an organization's delegated administrator (central configuration) owns the
 * hub and its standards otherwise, and local changes would fail or drift.
 */
export class SecurityHubBaseline extends PlatformPart {
  readonly standardsArns: string[];

  constructor(scope: Construct, id: string) {
    super(scope, id, { keepIdInAddresses: true });
    const account = new SecurityhubAccount(this, 'account', {
      // Only the standards below, not whatever AWS enables by default.
      enableDefaultStandards: false,
      controlFindingGenerator: 'SECURITY_CONTROL',
      autoEnableControls: true,
    });
    this.standardsArns = Object.entries(securityHubStandards(this.platform.region, this.platform.partition)).map(([key, arn]) => {
      new SecurityhubStandardsSubscription(this, key, { standardsArn: arn, dependsOn: [account] });
      return arn;
    });
  }
}
