import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { PolicyStatement } from '../constructs/policy';

/** Identity-policy statement letting a role publish to exactly these topics. */
export function publishStatement(sid: string, topics: SnsTopic[]): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: 'sns:Publish', Resource: topics.map((t) => t.arn) };
}
