import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import type { NetworkStack } from './network-stack';
import type { DataStack } from './data-stack';

export interface ReportingStackProps {
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/** Regulatory reporting: Step Functions workflow, reporting Lambdas, Aurora Serverless v2, SES. */
export class ReportingStack extends PlatformStack {
  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: ReportingStackProps) {
    super(scope, id, cfg);
    const dbSg = new SecurityGroup(this, 'db-sg', {
      name: this.name('reporting-db'),
      description: 'Reporting database: ingress 3306 from the reporting Lambdas only',
      vpcId: props.network.vpcId,
    });
    new TerraformOutput(this, 'database_security_group_id', { value: dbSg.id, description: 'Reporting database SG' });
    new TerraformOutput(this, 'job_status_table_name', { value: props.data.jobStatusTable.name, description: 'Job status table' });
  }
}
