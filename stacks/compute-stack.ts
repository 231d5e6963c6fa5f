import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { PlatformConfig } from './config';
import { PlatformStack } from './platform-stack';
import type { NetworkStack } from './network-stack';
import type { DataStack } from './data-stack';

export interface ComputeStackProps {
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/** AWS Batch on Fargate for the nightly run, Lambda orchestration, SLA alarms and the dashboard. */
export class ComputeStack extends PlatformStack {
  readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, cfg: PlatformConfig, props: ComputeStackProps) {
    super(scope, id, cfg);
    this.repository = new EcrRepository(this, 'processor-repo', {
      name: this.name('transaction-processor'),
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: props.data.s3Key.arn }],
    });
    new TerraformOutput(this, 'ecr_repository_url', { value: this.repository.repositoryUrl, description: 'Processor image repository' });
    new TerraformOutput(this, 'input_bucket_arn', { value: props.data.inputBucket.arn, description: 'Input bucket the orchestrator reads' });
    new TerraformOutput(this, 'batch_subnet_ids', { value: props.network.privateSubnetIds, description: 'Subnets of the Batch compute environment' });
  }
}
