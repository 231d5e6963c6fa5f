/**
 * The local run must create what the stacks create, under the same names and keys, and give each
 * handler the environment its stack gives it: checked against the synthesized Terraform (dev config).
 */
import { synthPlatform, testConfig, TfJson } from '../../test-support/config-fixture';
import { functionEnvironments, localNames, processorJobEnvironment, Provisioned, tableSpecs } from '../../scripts/local/resources';

const cfg = testConfig();
const { tf } = synthPlatform(cfg);
const all = (type: string) => Object.values(tf).flatMap((t: TfJson) => Object.values(t.resource?.[type] ?? {})) as Record<string, any>[];
const names = localNames(cfg);
const db = { host: '127.0.0.1', port: 3306, user: 'u', password: 'p' };
const provisioned: Provisioned = {
  names, jobQueueArn: 'arn:q', jobDefinitionArn: 'arn:d', dbSecretArn: 'arn:s', alertTaps: { batch: 'b', reporting: 'r' },
};

describe('local resources match the stacks', () => {
  it('gives every handler the function name and the environment variable names of its stack', () => {
    const envs = functionEnvironments(provisioned, cfg, db, { transactionsPerJob: 10 });
    const fns = new Map(all('aws_lambda_function').map((f) => [f.function_name as string, Object.keys(f.environment?.variables ?? {}).sort()]));
    for (const [entry, env] of Object.entries(envs)) {
      expect({ entry, name: fns.has(names.name(entry)) }).toEqual({ entry, name: true });
      // BYTES_PER_SHARD is the orchestrator's optional knob; the stack leaves it unset.
      expect({ entry, vars: Object.keys(env).filter((k) => k !== 'BYTES_PER_SHARD').sort() }).toEqual({ entry, vars: fns.get(names.name(entry)) });
    }
  });

  it('registers the job definition with the container environment of the compute stack', () => {
    const def = all('aws_batch_job_definition').find((d) => d.name === names.batch.jobDefinition)!;
    const env = (JSON.parse(def.container_properties).environment as { name: string; value: string }[]);
    const local = processorJobEnvironment(names, cfg);
    expect(Object.keys(local).sort()).toEqual(env.map((e) => e.name).sort());
    // Plain values (not references to other resources) are the same.
    for (const e of env.filter((x) => !x.value.includes('${'))) expect({ [e.name]: local[e.name] }).toEqual({ [e.name]: e.value });
  });

  it('creates the tables with the stacks names, keys and indexes', () => {
    const tables = new Map(all('aws_dynamodb_table').map((t) => [t.name as string, t]));
    for (const spec of tableSpecs(names)) {
      const t = tables.get(spec.TableName!);
      expect(t).toBeDefined();
      const key = (type: string) => spec.KeySchema!.find((k) => k.KeyType === type)?.AttributeName;
      expect([key('HASH'), key('RANGE')]).toEqual([t!.hash_key, t!.range_key]);
      const gsis = (t!.global_secondary_index ?? []).map((g: any) => [g.name, g.hash_key, g.range_key]);
      expect((spec.GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g.KeySchema![0].AttributeName, g.KeySchema![1]?.AttributeName])).toEqual(gsis);
    }
  });

  it('uses the stacks names for buckets, topics, Batch, SES and the processor roles', () => {
    const bucketPrefixes = all('aws_s3_bucket').map((b) => String(b.bucket).replace(/-\$\{.*$/, ''));
    for (const bucket of Object.values(names.buckets)) expect(bucketPrefixes).toContain(bucket.replace(/-123456789012$/, ''));
    const topics = all('aws_sns_topic').map((t) => t.name);
    for (const arn of Object.values(names.topics)) expect(topics).toContain(arn.split(':').pop());
    expect(all('aws_batch_job_queue').map((q) => q.name)).toContain(names.batch.jobQueue);
    expect(all('aws_batch_job_definition').map((d) => d.name)).toContain(names.batch.jobDefinition);
    expect(all('aws_batch_compute_environment').map((c) => c.name ?? c.compute_environment_name)).toContain(names.batch.computeEnvironment);
    expect(all('aws_sesv2_configuration_set').map((c) => c.configuration_set_name)).toContain(names.sesConfigurationSet);
    expect(all('aws_iam_role').map((r) => r.name)).toEqual(expect.arrayContaining([names.batch.executionRole, names.batch.jobRole]));
    // The loader's STATE_MACHINE_ARN locally names the stack's reporting state machine.
    expect(all('aws_sfn_state_machine').map((m) => m.name)).toContain(names.stateMachine.name);
  });
});
