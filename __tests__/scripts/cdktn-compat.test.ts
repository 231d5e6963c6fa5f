/**
 * The pure parts of scripts/cdktn-compat.ts: import rewriting, the generated package.json, the
 * normalisation and diff of cdk.tf.json, argument parsing. No network, no install.
 */
import {
  buildPackageJson,
  canonicalProviderSource,
  compareTypecheck,
  diffJson,
  formatDiff,
  highestVersion,
  Json,
  lockDrift,
  mapSpecifier,
  NORMALIZATIONS,
  normalizeStack,
  parseArgs,
  rewriteImports,
  summarizeNpmWarnings,
  truncate,
  UsageError,
} from '../../scripts/cdktn-compat';

describe('rewriteImports', () => {
  it('rewrites cdktf and @cdktf/provider-aws deep paths in every import form', () => {
    const src = [
      "import { App, TerraformStack } from 'cdktf';",
      'import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";',
      "import type { IAspect } from 'cdktf';",
      "export { Fn } from 'cdktf';",
      "const { Token } = require('cdktf');",
      "const lazy = await import('@cdktf/provider-aws/lib/iam-role');",
      "import 'cdktf/lib/testing/setup';",
    ].join('\n');
    const r = rewriteImports(src);
    expect(r.text).toBe([
      "import { App, TerraformStack } from 'cdktn';",
      'import { S3Bucket } from "@cdktn/provider-aws/lib/s3-bucket";',
      "import type { IAspect } from 'cdktn';",
      "export { Fn } from 'cdktn';",
      "const { Token } = require('cdktn');",
      "const lazy = await import('@cdktn/provider-aws/lib/iam-role');",
      "import 'cdktn/lib/testing/setup';",
    ].join('\n'));
    expect(r.rewritten).toHaveLength(7);
    expect(r.unmapped).toEqual([]);
  });

  it('leaves strings that are not module specifiers, and look-alike packages, alone', () => {
    const src = [
      "const out = 'cdktf.out';",
      "const name = 'cdktf';",
      "log('see @cdktf/provider-aws/lib/s3-bucket');",
      "import { x } from 'cdktf-cli/lib';",
      "import { y } from './cdktf';",
    ].join('\n');
    const r = rewriteImports(src);
    expect(r.text).toBe(src);
    expect(r.rewritten).toEqual([]);
  });

  it('reports other @cdktf packages as unmapped instead of guessing', () => {
    const r = rewriteImports("import { ArchiveProvider } from '@cdktf/provider-archive/lib/provider';\nimport { x } from '@cdktf/provider-awsx';");
    expect(r.unmapped).toEqual(['@cdktf/provider-archive/lib/provider', '@cdktf/provider-awsx']);
    expect(r.text).toContain("'@cdktf/provider-archive/lib/provider'");
  });

  it('maps only the two packages it knows', () => {
    expect(mapSpecifier('cdktf')).toBe('cdktn');
    expect(mapSpecifier('@cdktf/provider-aws')).toBe('@cdktn/provider-aws');
    expect(mapSpecifier('@cdktf/provider-aws/lib/vpc')).toBe('@cdktn/provider-aws/lib/vpc');
    expect(mapSpecifier('@cdktf/provider-google')).toBeUndefined();
  });
});

describe('buildPackageJson', () => {
  const pkg = {
    name: 'app',
    engines: { node: '>=20' },
    dependencies: { '@cdktf/provider-aws': '21.22.1', cdktf: '0.21.0', constructs: '10.4.2', '@aws-sdk/client-s3': '^3.1.0', zod: '3.25.76' },
    devDependencies: { tsx: '4.20.3', esbuild: '0.25.8', jest: '29.7.0', typescript: '5.9.3', 'cdktf-cli': '0.21.0' },
  };
  const lock = { packages: { 'node_modules/@aws-sdk/client-s3': { version: '3.1169.0' }, 'node_modules/tsx': { version: '4.20.3' } } };
  const v = { cdktn: '0.24.0', provider: '25.5.0', constructs: '10.7.2' };

  it('switches the CDK packages, pins the rest to the locked versions and keeps only the synth tools', () => {
    const { json, changes } = buildPackageJson(pkg, lock, v);
    expect(json.dependencies).toEqual({
      '@aws-sdk/client-s3': '3.1169.0', '@cdktn/provider-aws': '25.5.0', cdktn: '0.24.0', constructs: '10.7.2', zod: '3.25.76',
    });
    expect(json.devDependencies).toEqual({ esbuild: '0.25.8', tsx: '4.20.3', typescript: '5.9.3' });
    expect(json.engines).toEqual({ node: '>=20' });
    expect(changes).toEqual(expect.arrayContaining([
      'cdktf 0.21.0 -> cdktn 0.24.0',
      '@cdktf/provider-aws 21.22.1 -> @cdktn/provider-aws 25.5.0',
      'constructs 10.4.2 -> 10.7.2',
      'dev dependencies not needed for synth, left out: jest, cdktf-cli',
    ]));
    expect(changes.join('\n')).toContain('@aws-sdk/client-s3@3.1169.0');
  });

  it('refuses an app without cdktf and other @cdktf packages it cannot map', () => {
    expect(() => buildPackageJson({ dependencies: { zod: '1.0.0' } }, undefined, v)).toThrow(UsageError);
    expect(() => buildPackageJson({ dependencies: { cdktf: '0.21.0', '@cdktf/provider-random': '1.0.0' } }, undefined, v))
      .toThrow('dependency @cdktf/provider-random has no cdktn mapping');
  });
});

describe('normalizeStack and diffJson', () => {
  const stack = (tool: string, providerSource: string, providerVersion: string, hash: string): Json => ({
    '//': { metadata: { backend: 'local', stackName: 'compute', version: tool } },
    terraform: { required_providers: { aws: { source: providerSource, version: providerVersion } } },
    resource: {
      aws_lambda_function: {
        fn_ABC: {
          '//': { metadata: { path: 'compute/fn', uniqueId: 'fn_ABC' } },
          filename: `assets/fn_code/${hash}/function.zip`,
          source_code_hash: hash,
          tags: ['a', 'b'],
        },
      },
    },
  });

  it('makes the tool stamp, provider pin and equivalent provider addresses equal, and counts each', () => {
    const a = normalizeStack(stack('0.21.0', 'aws', '6.25.0', 'H1'));
    const b = normalizeStack(stack('0.24.0', 'hashicorp/aws', '6.64.0', 'H1'));
    expect(diffJson(a.json, b.json)).toEqual([]);
    expect(a.counts).toEqual({ 'stack-version-stamp': 1, 'provider-version-constraint': 1, 'provider-source-address': 1, 'tool-name-in-asset-paths': 0 });
    expect(Object.keys(a.counts)).toEqual(NORMALIZATIONS.map((r) => r.id));
  });

  it('does not modify its input', () => {
    const input = stack('0.21.0', 'aws', '6.25.0', 'H1');
    const copy = JSON.parse(JSON.stringify(input));
    normalizeStack(input);
    expect(input).toEqual(copy);
  });

  it('keeps asset hashes, resource metadata and a different provider namespace as differences', () => {
    const a = normalizeStack(stack('0.21.0', 'aws', '6.25.0', 'H1')).json;
    const b = normalizeStack(stack('0.24.0', 'acme/aws', '6.64.0', 'H2')).json;
    expect(diffJson(a, b).map((d) => d.path)).toEqual([
      '$.resource.aws_lambda_function.fn_ABC.filename',
      '$.resource.aws_lambda_function.fn_ABC.source_code_hash',
      '$.terraform.required_providers.aws.source',
    ]);
  });

  it('rewrites the tool name only inside asset fields', () => {
    const a = normalizeStack(stack('0.21.0', 'aws', '6.25.0', 'cdktf-H1'));
    const b = normalizeStack(stack('0.24.0', 'aws', '6.25.0', 'cdktn-H1'));
    expect(diffJson(a.json, b.json)).toEqual([]);
    expect(b.counts['tool-name-in-asset-paths']).toBe(2);
    const other = normalizeStack({ resource: { x: { y: { description: 'made by cdktn' } } } });
    expect(other.counts['tool-name-in-asset-paths']).toBe(0);
    expect(JSON.stringify(other.json)).toContain('made by cdktn');
  });

  it('reports added, removed and changed paths with bracketed keys where needed', () => {
    const d = diffJson({ a: 1, 'b/c': [1, 2, 3], '//': { x: 1 } }, { a: 2, 'b/c': [1, 2], n: null });
    expect(d).toEqual([
      { path: '$["//"]', kind: 'only-in-cdktf', before: { x: 1 } },
      { path: '$.a', kind: 'changed', before: 1, after: 2 },
      { path: '$["b/c"][2]', kind: 'only-in-cdktf', before: 3 },
      { path: '$.n', kind: 'only-in-cdktn', after: null },
    ]);
    expect(diffJson({ t: [1] }, { t: { 0: 1 } })).toHaveLength(1);
  });

  it('canonicalises provider sources as Terraform does', () => {
    expect(canonicalProviderSource('aws')).toBe('registry.terraform.io/hashicorp/aws');
    expect(canonicalProviderSource('HashiCorp/AWS')).toBe('registry.terraform.io/hashicorp/aws');
    expect(canonicalProviderSource('registry.opentofu.org/hashicorp/aws')).toBe('registry.opentofu.org/hashicorp/aws');
    expect(canonicalProviderSource('integrations/github')).toBe('registry.terraform.io/integrations/github');
  });

  it('prints truncated before/after values and says how many were left out', () => {
    expect(truncate('x'.repeat(300), 20)).toHaveLength(20);
    expect(truncate(undefined)).toBe('(absent)');
    const lines = formatDiff([
      { path: '$.a', kind: 'changed', before: 1, after: 2 },
      { path: '$.b', kind: 'only-in-cdktn', after: 'y' },
    ], 1);
    expect(lines).toEqual(['    $.a  [changed]', '      cdktf: 1', '      cdktn: 2', '    … 1 more (use --max-paths or --report FILE)']);
  });
});

describe('parseArgs', () => {
  it('has defaults and reads every option', () => {
    expect(parseArgs([])).toMatchObject({ envs: ['dev'], cdktn: '0.24.0', provider: '25.5.0', keep: false, typecheck: true, freshLock: false });
    expect(parseArgs(['--env', 'dev,prod', '--provider', '25.7.0', '--keep', '--no-typecheck', '--fresh-lock', '--max-paths', '5']))
      .toMatchObject({ envs: ['dev', 'prod'], provider: '25.7.0', keep: true, typecheck: false, freshLock: true, maxPaths: 5 });
    expect(parseArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--provider'], '--provider needs a value'],
    [['--cdktn', 'latest'], '--cdktn must be an exact version like 1.2.3, got "latest"'],
    [['--env', 'Dev!'], '--env must be config names like dev,prod, got "Dev!"'],
    [['--max-paths', 'ten'], '--max-paths must be a whole number, got "ten"'],
    [['--frobnicate'], 'unknown option "--frobnicate" (see --help)'],
  ])('rejects %j clearly', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('helpers', () => {
  it('picks the highest plain version', () => {
    expect(highestVersion(['10.6.0', '10.7.2', '10.7.10', '10.7.1', '10.8.0-beta.1'])).toBe('10.7.10');
    expect(highestVersion([])).toBeUndefined();
  });

  it('lists transitive version drift, leaving out the switched packages', () => {
    const before = { packages: { '': {}, 'node_modules/@smithy/core': { version: '3.41.0' }, 'node_modules/cdktf': { version: '0.21.0' },
      'node_modules/zod': { version: '3.25.76' } } };
    const after = { packages: { '': {}, 'node_modules/@smithy/core': { version: '3.41.1' }, 'node_modules/cdktf': { version: '0.24.0' },
      'node_modules/zod': { version: '3.25.76' }, 'node_modules/cdktn': { version: '0.24.0' } } };
    expect(lockDrift(before, after)).toEqual(['@smithy/core 3.41.0 -> 3.41.1']);
  });

  it('separates type errors caused by the migration from those already in the sources', () => {
    const cdktf = "a.ts(1,1): error TS6133: 'x' is declared but its value is never read.\n";
    const cdktn = `${cdktf}stacks/s.ts(3,5): error TS2305: Module '"cdktn"' has no exported member 'Foo'.\n`;
    expect(compareTypecheck(cdktf, cdktn)).toEqual({
      baseline: ["a.ts(1,1): error TS6133: 'x' is declared but its value is never read."],
      onlyCdktn: [`stacks/s.ts(3,5): error TS2305: Module '"cdktn"' has no exported member 'Foo'.`],
      onlyCdktf: [],
    });
  });

  it('summarises npm engine warnings on one line each', () => {
    const out = [
      'npm warn EBADENGINE Unsupported engine {',
      "npm warn EBADENGINE   package: '@cdktn/provider-aws@25.5.0',",
      "npm warn EBADENGINE   required: { node: '>= 22.11.0' },",
      "npm warn EBADENGINE   current: { node: 'v20.20.2', npm: '11.19.1' }",
      'npm warn EBADENGINE }',
      'npm warn deprecated inflight@1.0.6: This module is not supported',
      'added 98 packages in 40s',
    ].join('\n');
    expect(summarizeNpmWarnings(out)).toEqual([
      'EBADENGINE: @cdktn/provider-aws@25.5.0 declares node >= 22.11.0; this node is v20.20.2',
      'deprecated inflight@1.0.6: This module is not supported',
    ]);
  });
});
