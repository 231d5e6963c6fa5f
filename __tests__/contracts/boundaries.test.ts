/**
 * Import boundaries (eslint.config.mjs): handlers and the processor never import stacks/, domain/
 * imports nothing outside domain/, contracts/ imports nothing of ours but domain/ and no SDK or cdktf.
 * The probes are temporary files laid out like the repository in a temp folder whose eslint.config.mjs
 * re-exports the repository's, so the rules apply to them by path; ESLint lints them all in one child
 * process (its flat config is an ES module, which jest's CommonJS runtime cannot load).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';

const ROOT = path.resolve(__dirname, '..', '..');
// Assembled so that repository greps for root imports don't flag this deliberate probe.
const PROVIDER_ROOT = ['@cdktf', 'provider-aws'].join('/');

/** [file, import] pairs that must be refused, with a piece of the message; then pairs that must pass. */
const REFUSED: [string, string, string][] = [
  ['lambda-src/orchestrator/a.ts', '../../stacks/data/buckets', 'never import stacks/'],
  ['lambda-src/shared/b.ts', '../../stacks/config', 'never import stacks/'],
  ['processor/src/c.ts', '../../stacks/compute/job-definition', 'never import stacks/'],
  ['domain/d.ts', '../contracts/buckets', 'domain/ imports nothing outside domain/'],
  ['domain/reporting/e.ts', '../../lambda-src/shared/env', 'domain/ imports nothing outside domain/'],
  ['domain/reporting/f.ts', '../../stacks/config', 'domain/ imports nothing outside domain/'],
  ['contracts/g.ts', '../stacks/config', 'contracts/ imports nothing of ours except domain/'],
  ['contracts/h.ts', '../lambda-src/shared/env', 'contracts/ imports nothing of ours except domain/'],
  ['contracts/i.ts', '../processor/src/config', 'contracts/ imports nothing of ours except domain/'],
  ['contracts/j.ts', '@aws-sdk/client-dynamodb', 'no SDK, cdktf'],
  ['contracts/k.ts', 'cdktf', 'no SDK, cdktf'],
  ['contracts/l.ts', '@cdktf/provider-aws/lib/dynamodb-table', 'no SDK, cdktf'],
  // The provider-root rule holds in every scoped block.
  ['stacks/m.ts', PROVIDER_ROOT, 'Import provider classes by deep path'],
  ['lambda-src/n.ts', PROVIDER_ROOT, 'Import provider classes by deep path'],
  ['processor/src/o.ts', PROVIDER_ROOT, 'Import provider classes by deep path'],
  ['domain/p.ts', PROVIDER_ROOT, 'Import provider classes by deep path'],
  ['contracts/q.ts', PROVIDER_ROOT, 'Import provider classes by deep path'],
];
const ALLOWED: [string, string][] = [
  ['lambda-src/orchestrator/ok1.ts', '../../contracts/buckets'],
  ['lambda-src/orchestrator/ok2.ts', '../../domain/money'],
  ['processor/src/ok3.ts', '../../contracts/batch-job'],
  ['domain/reporting/ok4.ts', '../money'],
  ['contracts/ok5.ts', '../domain/money'],
  ['contracts/ok6.ts', './tables'],
  ['stacks/data/ok7.ts', '../../contracts/tables'],
  ['stacks/ok8.ts', '../lambda-src/shared/env'],
  ['scripts/local/ok9.ts', '../../contracts/lambda-environment'],
];

let messages: Map<string, string[]>;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-boundaries-'));
  try {
    fs.writeFileSync(path.join(dir, 'eslint.config.mjs'), `export { default } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'eslint.config.mjs')).href)};\n`);
    for (const [file, from] of [...REFUSED, ...ALLOWED]) {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), `import { x } from '${from}';\nexport const y = x;\n`);
    }
    const files = [...REFUSED, ...ALLOWED].map(([file]) => file);
    const res = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--format', 'json', ...files],
      { cwd: dir, encoding: 'utf8', timeout: 120000 });
    const results = JSON.parse(res.stdout) as { filePath: string; messages: { ruleId: string | null; message: string }[] }[];
    messages = new Map(results.map((r) => [path.relative(dir, r.filePath),
      r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);

describe('eslint import boundaries', () => {
  it.each(REFUSED)('%s may not import %s', (file, _from, message) => {
    expect(messages.get(file)).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
  });

  it.each(ALLOWED)('%s may import %s', (file) => {
    expect(messages.get(file)).toEqual([]);
  });
});
