/**
 * What the stacks produce, read by the tools that consume it: Terraform evaluates the variables'
 * validation and the processor image local (`terraform console`, offline, where terraform is
 * installed), a standard unzip (Python's zipfile) reads the deterministic zip, and two independent
 * esbuild runs bundle a handler to the same bytes. Tooling project: these run subprocesses.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { platformOf, testConfig } from '../../test-support/config-fixture';
import { CANDIDATES, configAccepts, DIGEST, expectedVariables, terraformConsole, terraformInstalled, VARIABLE_OVERRIDES, variablesOf } from '../../test-support/terraform-variables';
import { VARIABLE_NAMES } from '../../stacks/variables';
import { bundleHandler } from '../../stacks/lib/bundle';
import { createZip } from '../../stacks/lib/deterministic-zip';

const cfg = testConfig(VARIABLE_OVERRIDES);
const { tf } = platformOf('dev', VARIABLE_OVERRIDES);
const withTerraform = terraformInstalled();

describe.each(expectedVariables(cfg))('terraform console: variable %s (%s stack)', (name, stackId) => {
  it('validation agrees with config on every candidate value (where terraform is installed)', () => {
    if (!withTerraform) return;
    const v = variablesOf(tf[stackId])[name];
    for (const value of CANDIDATES[name]) {
      expect([value, terraformConsole({ variable: { [name]: v } }, `var.${name}`, { [name]: value }).valid]).toEqual([value, configAccepts(name, value)]);
    }
  });
});

it('terraform console: the image local is repo:tag for a tag, repo@sha256:... for a digest, and latest is refused (where terraform is installed)', () => {
  if (!withTerraform) return;
  const locals = tf.compute.locals as Record<string, string>;
  const image = locals.processor_image.replace('aws_ecr_repository.processor-repo.repository_url', 'local.repo');
  const doc = {
    variable: { [VARIABLE_NAMES.processorImageTag]: variablesOf(tf.compute)[VARIABLE_NAMES.processorImageTag] },
    locals: { repo: '123456789012.dkr.ecr.us-east-1.amazonaws.com/finbatch-dev-transaction-processor', image },
  };
  const repo = doc.locals.repo;
  expect(terraformConsole(doc, 'local.image', { processor_image_tag: '1.4.0' }).output).toBe(JSON.stringify(`${repo}:1.4.0`));
  expect(terraformConsole(doc, 'local.image', { processor_image_tag: DIGEST }).output).toBe(JSON.stringify(`${repo}@${DIGEST}`));
  expect(terraformConsole(doc, 'local.image', {}).output).toBe(JSON.stringify(`${repo}:${cfg.batch.imageTag}`));
  expect(terraformConsole(doc, 'local.image', { processor_image_tag: 'latest' }).valid).toBe(false);
});

it('a standard unzip (Python zipfile) reads the deterministic zip: names, contents, CRCs', () => {
  const zip = createZip([{ name: 'b.txt', data: Buffer.from('bee') }, { name: 'index.js', data: Buffer.from('exports.handler=1') }]);
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zip-')), 'x.zip');
  fs.writeFileSync(f, zip);
  const listed = execFileSync('python3', ['-c',
    'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;print(",".join(n+"="+z.read(n).decode() for n in z.namelist()))', f]).toString().trim();
  expect(listed).toBe('b.txt=bee,index.js=exports.handler=1');
});

it('esbuild bundles the same handler source to the same bytes (two independent builds)', () => {
  const one = bundleHandler('orchestrator', { buildDir: fs.mkdtempSync(path.join(os.tmpdir(), 'b1-')) });
  const two = bundleHandler('orchestrator', { buildDir: fs.mkdtempSync(path.join(os.tmpdir(), 'b2-')) });
  expect(one.sha256Base64).toBe(two.sha256Base64);
  expect(fs.readFileSync(one.zipPath).equals(fs.readFileSync(two.zipPath))).toBe(true);
  expect(one.entry).toBe('lambda-src/orchestrator/index.ts');
});
