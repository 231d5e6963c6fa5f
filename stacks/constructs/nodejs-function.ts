import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { bundleHandler } from '../lib/bundle';
import { EncryptedLogGroup } from './encrypted-log-group';
import { IGrantable, RolePolicy, ServiceRole } from './grants';
import { PolicyStatement } from './policy';

export const LAMBDA_RUNTIME = 'nodejs22.x';

/** Explicit denies on every function role: no Lambda may destroy the platform's data or keys. */
export const EXPLICIT_DENY_STATEMENT: PolicyStatement = {
  Sid: 'DenyDestructiveActions',
  Effect: 'Deny',
  Action: ['s3:DeleteBucket', 's3:PutBucketPolicy', 'kms:DisableKey', 'kms:ScheduleKeyDeletion', 'dynamodb:DeleteTable'],
  Resource: '*',
};

export interface NodejsFunctionProps {
  /** Folder under lambda-src/ holding index.ts with an exported `handler`. */
  readonly entry: string;
  readonly functionName: string;
  readonly description?: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly reservedConcurrency: number;
  readonly environment?: Record<string, string>;
  /**
   * Resource-scoped statements the handler needs; logs, X-Ray, DLQ, VPC and the environment key are
   * added here. Grants (`bucket.grantRead(fn, ...)`, `fn.addToPolicy(...)`) add the rest afterwards.
   */
  readonly statements?: PolicyStatement[];
  /** Private subnets + security groups; every platform Lambda runs in the VPC unless told otherwise. */
  readonly vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  /** Required for asynchronously invoked functions (S3, EventBridge, schedules). */
  readonly deadLetterQueueArn?: string;
  /** Key for environment variables at rest. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly logKmsKeyArn: string;
}

/**
 * A Lambda function built from `lambda-src/<entry>/index.ts`: esbuild bundle -> deterministic zip ->
 * TerraformAsset (same source, same hash), nodejs22.x, X-Ray active, JSON logs to its own KMS-encrypted
 * log group, its own least-privilege role with the documents' explicit denies, optional VPC and DLQ.
 */
export class NodejsFunction extends Construct implements IGrantable {
  readonly fn: LambdaFunction;
  readonly role: IamRole;
  readonly grantPolicy: RolePolicy;
  readonly logGroup: EncryptedLogGroup;
  readonly functionName: string;
  readonly arn: string;
  readonly bundleBytes: number;
  readonly entry: string;

  constructor(scope: Construct, id: string, props: NodejsFunctionProps) {
    super(scope, id);
    if (props.timeoutSeconds < 1 || props.timeoutSeconds > 900) {
      throw new Error(`NodejsFunction ${id}: timeoutSeconds must be 1-900, got ${props.timeoutSeconds}`);
    }
    if (props.memoryMb < 128 || props.memoryMb > 10240) {
      throw new Error(`NodejsFunction ${id}: memoryMb must be 128-10240, got ${props.memoryMb}`);
    }
    if (props.reservedConcurrency < 1) {
      throw new Error(`NodejsFunction ${id}: reservedConcurrency must be >= 1, got ${props.reservedConcurrency}`);
    }
    const bundle = bundleHandler(props.entry);
    this.bundleBytes = bundle.bytes;
    this.entry = bundle.entry;
    const asset = new TerraformAsset(this, 'code', {
      path: bundle.zipPath,
      type: AssetType.FILE,
      assetHash: bundle.sha256Base64.replace(/[^A-Za-z0-9]/g, '').slice(0, 32),
    });

    this.logGroup = new EncryptedLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionDays: props.logRetentionDays,
      kmsKeyArn: props.logKmsKeyArn,
    });

    const serviceRole = new ServiceRole(this, {
      roleId: 'role',
      policyId: 'policy',
      roleName: functionRoleName(props.functionName),
      policyName: `${props.functionName}-policy`,
      assumedBy: 'lambda.amazonaws.com',
      closing: [EXPLICIT_DENY_STATEMENT],
    });
    this.role = serviceRole.role;
    this.grantPolicy = serviceRole.grantPolicy;
    const base: PolicyStatement[] = [
      {
        Sid: 'OwnLogGroupOnly',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${this.logGroup.arn}:*`,
      },
      // X-Ray segment upload has no resource-level permissions: AWS requires "*".
      { Sid: 'XRayTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
      { Sid: 'EnvironmentKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: props.kmsKeyArn },
    ];
    if (props.vpc) {
      // ENI management for VPC functions has no resource-level permissions: AWS requires "*".
      base.push({
        Sid: 'VpcNetworkInterfaces',
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: '*',
      });
    }
    if (props.deadLetterQueueArn) {
      base.push({ Sid: 'DeadLetterQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: props.deadLetterQueueArn });
    }
    serviceRole.addToPolicy(...base, ...(props.statements ?? []));

    this.fn = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description ?? `${props.entry} handler`,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      handler: 'index.handler',
      architectures: ['arm64'],
      filename: asset.path,
      sourceCodeHash: bundle.sha256Base64,
      timeout: props.timeoutSeconds,
      memorySize: props.memoryMb,
      reservedConcurrentExecutions: props.reservedConcurrency,
      kmsKeyArn: props.kmsKeyArn,
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: props.entry,
          ...props.environment,
        },
      },
      ...(props.vpc ? { vpcConfig: { subnetIds: props.vpc.subnetIds, securityGroupIds: props.vpc.securityGroupIds } } : {}),
      ...(props.deadLetterQueueArn ? { deadLetterConfig: { targetArn: props.deadLetterQueueArn } } : {}),
      dependsOn: [this.logGroup.logGroup],
    });
    this.functionName = this.fn.functionName;
    this.arn = this.fn.arn;
  }

  /** Add statements to the function's role policy (before the closing explicit denies). */
  addToPolicy(...statements: PolicyStatement[]): void {
    this.grantPolicy.addStatements(...statements);
  }

  /** Statement that lets a principal invoke exactly this function. */
  invokeStatement(sid: string): PolicyStatement {
    return { Sid: sid, Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [this.arn, `${this.arn}:*`] };
  }
}

/** The execution role's name of a function (other stacks build its ARN from the name, avoiding cycles). */
export function functionRoleName(functionName: string): string {
  return `${functionName}-role`;
}
