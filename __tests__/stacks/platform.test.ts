import { synthPlatform, resources } from '../../test-support/config-fixture';

describe('platform skeleton', () => {
  const { tf } = synthPlatform();

  it('synthesizes the five stacks with the AWS provider pinned to the configured accounts', () => {
    expect(Object.keys(tf).sort()).toEqual(['compute', 'data', 'network', 'reporting', 'security-baseline']);
    for (const stack of Object.values(tf)) {
      const aws = (stack.provider?.aws as Record<string, unknown>[])[0];
      expect(aws.region).toBe('us-east-1');
      expect(aws.allowed_account_ids).toEqual(['111111111111']);
      expect((aws.default_tags as { tags: Record<string, string> }[])[0].tags).toMatchObject({
        Environment: 'dev', Owner: 'Finance Department', Project: 'Transaction Batch Processing', ManagedBy: 'cdktf', CostCenter: 'FIN-1001',
      });
    }
  });

  it('reads upstream stacks through remote state (compute consumes network and data)', () => {
    const remote = Object.keys(tf.compute.data?.terraform_remote_state ?? {});
    expect(remote).toEqual(expect.arrayContaining([
      'cross-stack-reference-input-network', 'cross-stack-reference-input-data',
    ]));
    expect(Object.keys(resources(tf.network, 'aws_subnet'))).toHaveLength(3);
  });
});
