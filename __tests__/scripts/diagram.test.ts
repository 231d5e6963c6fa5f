import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildGraph, kindOf, STACK_COLORS, toDot } from '../../scripts/diagram';
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

  describe('legend', () => {
    const dot = toDot(graph);
    const legend = /graph \[labelloc=b, labeljust=l, label=<(<table.*<\/table>)>\];/.exec(dot)?.[1] ?? '';
    const rowText = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').trim();
    const rows = [...legend.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => m[1]);

    it('is the graph label under the drawing', () => {
      expect(legend).not.toBe('');
      expect(rowText(rows[0])).toMatch(/Legend/);
    });

    it('names the fill colour of every stack cluster', () => {
      for (const stack of Object.keys(graph.stacks)) {
        const fill = new RegExp(`subgraph "cluster_${stack}" \\{\\n.*fillcolor="(#[0-9a-f]{6})"`).exec(dot)?.[1];
        expect(fill).toBe(STACK_COLORS[stack]);
        expect(rows.some((r) => r.includes(`bgcolor="${fill}"`) && rowText(r).startsWith(`${stack} stack`))).toBe(true);
      }
    });

    it('explains every edge colour and style the drawing uses, what the numbers on them count, and the ×N on boxes', () => {
      const edgeStyles = new Set([...dot.matchAll(/ -> "[^"]+"(?: \[([^\]]*)\])?;/g)].map((m) => {
        const attrs = m[1] ?? '';
        return `${/color="([^"]+)"/.exec(attrs)?.[1] ?? 'default'}${/style=dashed/.test(attrs) ? ' dashed' : ''}`;
      }));
      expect([...edgeStyles].sort()).toEqual(['#1f5fbf', '#7b8fb8 dashed', 'default']);
      const row = (color: string) => rows.find((r) => r.includes(`<font color="${color}">`));
      expect(rowText(row('#c3c8d2') ?? '')).toMatch(/reference inside one stack.*IAM roles are left out/);
      expect(rowText(row('#1f5fbf') ?? '')).toMatch(/cross-stack reference.*remote state.*number counts the references/);
      expect(rowText(row('#7b8fb8') ?? '')).toMatch(/^╍╍▶ keys: \d+.*KMS keys.*once per stack pair.*number counts them/);
      expect(dot).toMatch(/ ×\d+"\]/);
      expect(rows.map(rowText).some((t) => /×N = how many the stack declares/.test(t))).toBe(true);
    });

    it('shows each stack\'s Terraform variables as a note, explained in the legend', () => {
      expect(graph.variables.compute).toEqual(['processor_image_tag']);
      expect(dot).toContain('"compute|variables" [shape=note');
      expect(rows.map(rowText).some((t) => /Terraform variables the stack declares/.test(t))).toBe(true);
    });
  });
});
