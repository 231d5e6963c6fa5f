/** Deterministic synth: two real synths are byte-identical; a differing or missing file fails. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkDeterminism, compareTrees } from '../../scripts/verify/determinism';

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'det-'));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  return dir;
}

test('identical trees pass; a changed asset byte and a missing file fail with the path', () => {
  const base = { 'manifest.json': '{}', 'stacks/compute/cdk.tf.json': '{"a":1}', 'stacks/compute/assets/fn/archive.zip': 'PK\u0003\u0004x' };
  expect(compareTrees(tree(base), tree(base))).toEqual([]);
  const changed = compareTrees(tree(base), tree({ ...base, 'stacks/compute/assets/fn/archive.zip': 'PK\u0003\u0004y' }));
  expect(changed).toEqual([{ check: 'determinism', stack: 'compute', address: 'stacks/compute/assets/fn/archive.zip', message: 'differs between two synths of the same tree' }]);
  const { 'manifest.json': _m, ...withoutManifest } = base;
  void _m;
  expect(compareTrees(tree(base), tree(withoutManifest))[0]).toMatchObject({ stack: '(app)', address: 'manifest.json', message: 'present in only one of two synths' });
});

test('two real synths of this tree are byte-identical (asset hashes included)', () => {
  const r = checkDeterminism();
  expect(r.findings).toEqual([]);
  expect(r.files).toBeGreaterThanOrEqual(6);
});
