import type { PolicyStatement } from './policy';

/** Who may still reach a pinned bucket from outside its VPC endpoint (part of SecureBucketProps). */
export interface EndpointPinExceptions {
  /**
   * IAM role ARNs that may still PutObject from outside the endpoint when `sourceVpceId` is set:
   * upstream producers, and roles Step Functions uses to write (a Distributed Map's ResultWriter calls
   * S3 with the execution role, not as a service and not through the VPC). Reads and deletes stay pinned.
   */
  readonly outsideVpceWriters?: string[];
  /**
   * Principals that may still read (GetObject, GetObjectVersion) objects under `prefix` from outside the
   * endpoint when `sourceVpceId` is set: functions that run outside the VPC and external readers in
   * other accounts. Role ARNs are matched on aws:PrincipalArn, account ids on aws:PrincipalAccount
   * (every principal of that account). Only the endpoint check is lifted: each reader still needs an
   * Allow (its IAM policy, or this bucket's policy for another account). Everything outside `prefix`,
   * and every delete, stays pinned.
   */
  readonly outsideVpceReaders?: { prefix: string; principalArns: string[]; accountIds: string[] };
}

/**
 * Bucket-policy statements pinning object access to one S3 gateway endpoint: reads, deletes and writes
 * from anywhere else are denied (AWS services acting for the bucket are exempt), except the named
 * writers (PutObject) and readers (GetObject under their prefix). `what` names the bucket in errors.
 */
export function endpointPinStatements(what: string, bucketArn: string, sourceVpceId: string, props: EndpointPinExceptions): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  const outsideVpce = {
    StringNotEquals: { 'aws:sourceVpce': sourceVpceId },
    Bool: { 'aws:PrincipalIsAWSService': 'false' },
    BoolIfExists: { 'aws:ViaAWSService': 'false' },
  };
  const writers = props.outsideVpceWriters ?? [];
  const readers = props.outsideVpceReaders;
  if (readers && !readers.principalArns.length && !readers.accountIds.length) {
    throw new Error(`${what}: outsideVpceReaders needs at least one principal ARN or account id`);
  }
  if (readers && !/^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*\/$/.test(readers.prefix)) {
    throw new Error(`${what}: outsideVpceReaders.prefix must be a key prefix ending in / (got "${readers.prefix}")`);
  }
  const reads = ['s3:GetObject', 's3:GetObjectVersion'];
  const deletes = ['s3:DeleteObject', 's3:DeleteObjectVersion'];
  if (!readers) {
    statements.push({
      Sid: 'DenyDataAccessOutsideVpce',
      Effect: 'Deny',
      Principal: '*',
      Action: [...reads, ...deletes],
      Resource: `${bucketArn}/*`,
      Condition: outsideVpce,
    });
  } else {
    const exempt: PolicyStatement['Condition'] = {
      ...outsideVpce,
      StringNotEquals: {
        ...outsideVpce.StringNotEquals,
        ...(readers.accountIds.length ? { 'aws:PrincipalAccount': readers.accountIds } : {}),
      },
      ...(readers.principalArns.length ? { ArnNotEquals: { 'aws:PrincipalArn': readers.principalArns } } : {}),
    };
    statements.push({
      Sid: 'DenyDataAccessOutsideVpce',
      Effect: 'Deny',
      Principal: '*',
      Action: deletes,
      Resource: `${bucketArn}/*`,
      Condition: outsideVpce,
    }, {
      Sid: 'DenyReadsOutsideVpce',
      Effect: 'Deny',
      Principal: '*',
      Action: reads,
      NotResource: `${bucketArn}/${readers.prefix}*`,
      Condition: outsideVpce,
    }, {
      // Conditions are ANDed: denied unless through the endpoint, or by a service, or by a named reader.
      Sid: 'DenyPrefixReadsOutsideVpceExceptReaders',
      Effect: 'Deny',
      Principal: '*',
      Action: reads,
      Resource: `${bucketArn}/${readers.prefix}*`,
      Condition: exempt,
    });
  }
  statements.push({
    Sid: 'DenyWritesOutsideVpce',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: `${bucketArn}/*`,
    // The named writers are exempt from the endpoint (their own IAM policies still limit where they write).
    Condition: writers.length ? { ...outsideVpce, ArnNotEquals: { 'aws:PrincipalArn': writers } } : outsideVpce,
  });
  return statements;
}
