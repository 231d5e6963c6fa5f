import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CLOUDWATCH_RETENTION_DAYS } from '../config';

export interface EncryptedLogGroupProps {
  readonly name: string;
  readonly retentionDays: number;
  readonly kmsKeyArn: string;
}

/** A CloudWatch log group that is always KMS-encrypted and always has a valid retention. */
export class EncryptedLogGroup extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly name: string;
  readonly arn: string;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    if (!(CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(props.retentionDays)) {
      throw new Error(`EncryptedLogGroup ${id}: retentionDays ${props.retentionDays} is not a CloudWatch retention value`);
    }
    this.logGroup = new CloudwatchLogGroup(this, 'group', {
      name: props.name,
      retentionInDays: props.retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.name = this.logGroup.name;
    this.arn = this.logGroup.arn;
  }
}
