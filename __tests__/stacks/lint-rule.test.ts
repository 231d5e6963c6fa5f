import { spawnSync } from 'child_process';
import * as path from 'path';
import { ROOT } from '../../test-support/config-fixture';

// The root module of @cdktf/provider-aws costs ~2-3 s and ~550 MB per process (bench/synth.ts):
// the lint rule is what keeps it out of the synth and test hot paths. ESLint runs in a child process
// (its flat config is an ES module, which jest's CommonJS runtime cannot load).
function lint(code: string): string[] {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'),
    '--stdin', '--stdin-filename', 'stacks/lint-probe.ts', '--format', 'json'], { cwd: ROOT, input: code, encoding: 'utf8', timeout: 60000 });
  const [result] = JSON.parse(res.stdout) as { messages: { ruleId: string; message: string }[] }[];
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('eslint: deep provider imports only', () => {
  it('rejects an import of the package root', () => {
    // Assembled so that repository greps for root imports don't flag this deliberate probe.
    const rootModule = ['@cdktf', 'provider-aws'].join('/');
    expect(lint(`import { s3Bucket } from '${rootModule}';\nexport const x = s3Bucket;\n`))
      .toEqual([expect.stringContaining('Import provider classes by deep path')]);
  });

  it('accepts a deep import', () => {
    expect(lint("import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';\nexport const x = S3Bucket;\n")).toEqual([]);
  });
});
