import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildGraph, kindOf, toDot } from '../../scripts/diagram';
import { ROOT, synthPlatform } from '../../test-support/config-fixture';

describe('architecture diagram from cdktf.out', () => {
  const { outdir } = synthPlatform();
  const graph = buildGraph(outdir);

  it('folds helper resources into the kind an operator thinks in', () => {
    expect(kindOf('aws_s3_bucket_policy')).toBe('aws_s3_bucket');
    expect(kindOf('aws_vpc_security_group_egress_rule')).toBe('aws_security_group');
    expect(kindOf('aws_sfn_state_machine')).toBe('aws_sfn_state_machine');
  });

  it('has one cluster per stack and counts principal resources, not their helpers', () => {
    expect(Object.keys(graph.stacks).sort()).toEqual(['compute', 'data', 'network', 'reporting', 'security-baseline']);
    const tf = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'data', 'cdk.tf.json'), 'utf8'));
    expect(graph.stacks.data.aws_s3_bucket).toBe(Object.keys(tf.resource.aws_s3_bucket).length);
    expect(graph.stacks.network.aws_subnet).toBe(3);
  });

  it('draws cross-stack references along the stack DAG', () => {
    const stackEdges = new Set([...graph.crossEdges.keys()].map((e) => e.split('->').map((n) => n.split('|')[0]).join('->')));
    expect([...stackEdges]).toEqual(expect.arrayContaining(['compute->network', 'compute->data', 'reporting->network', 'reporting->data', 'data->security-baseline']));
    for (const e of stackEdges) {
      expect(['compute->network', 'compute->data', 'reporting->network', 'reporting->data', 'data->security-baseline', 'data->network']).toContain(e);
    }
  });

  it('renders SVG and PNG with Graphviz (npm run diagram)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'diagram-'));
    const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'scripts', 'diagram.ts'), '--in', outdir, '--out', out], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'architecture.svg'), 'utf8')).toContain('<svg');
    expect(fs.readFileSync(path.join(out, 'architecture.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(toDot(graph)).toContain('subgraph "cluster_compute"');
  });
});
