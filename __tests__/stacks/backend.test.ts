import { synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';

function remoteStates(tf: TfJson): Record<string, { backend: string; config: Record<string, unknown> }> {
  return (tf.data?.terraform_remote_state ?? {}) as never;
}

describe('state backends', () => {
  it('local (default): one state file per stack at the project root, readable by consumers', () => {
    const { tf } = synthPlatform(testConfig());
    expect(tf.network.terraform?.backend).toEqual({ local: { path: '../../../terraform.network.tfstate' } });
    const reads = remoteStates(tf.compute);
    expect(reads['cross-stack-reference-input-network']).toMatchObject({
      backend: 'local', config: { path: '../../../terraform.network.tfstate' },
    });
  });

  it('s3: key per stack, encryption and DynamoDB locking, and remote-state reads use the same settings', () => {
    const { tf } = synthPlatform(testConfig({
      backend: { type: 's3', bucket: 'tf-state-111111111111', region: 'eu-west-1', keyPrefix: 'finbatch/dev', dynamodbTable: 'tf-locks' },
    }));
    expect(tf.data.terraform?.backend).toEqual({
      s3: { bucket: 'tf-state-111111111111', key: 'finbatch/dev/data.tfstate', region: 'eu-west-1', encrypt: true, dynamodb_table: 'tf-locks' },
    });
    expect(remoteStates(tf.reporting)['cross-stack-reference-input-data']).toMatchObject({
      backend: 's3', config: { bucket: 'tf-state-111111111111', key: 'finbatch/dev/data.tfstate' },
    });
  });

  it('s3 without a lock table uses native lockfile locking', () => {
    const { tf } = synthPlatform(testConfig({
      backend: { type: 's3', bucket: 'tf-state-111111111111', region: 'eu-west-1', keyPrefix: 'finbatch/dev' },
    }));
    expect((tf.compute.terraform?.backend as Record<string, Record<string, unknown>>).s3.use_lockfile).toBe(true);
  });

  it('Terraform Cloud: one workspace per stack, remote-state reads through the remote backend', () => {
    const { tf } = synthPlatform(testConfig({ backend: { type: 'cloud', organization: 'example-bank', workspacePrefix: 'finbatch-dev' } }));
    expect(tf.network.terraform?.cloud).toEqual({
      hostname: 'app.terraform.io', organization: 'example-bank', workspaces: { name: 'finbatch-dev-network' },
    });
    expect(tf.network.terraform?.backend).toBeUndefined();
    expect(remoteStates(tf.compute)['cross-stack-reference-input-network']).toMatchObject({
      backend: 'remote', config: { organization: 'example-bank', workspaces: { name: 'finbatch-dev-network' } },
    });
  });
});
