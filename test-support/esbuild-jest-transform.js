/**
 * Transpile-only jest transform with esbuild (already a dependency for the Lambda bundles):
 * type-checking runs once in `npm run lint` (tsc --noEmit), not per test file.
 * No jest.mock hoisting: the suite uses real local servers, not module mocks.
 */
const { transformSync } = require('esbuild');
const crypto = require('crypto');
const fs = require('fs');
const { version } = require('esbuild/package.json');

// The cache key covers this file too: changing the options must not reuse stale transforms.
const SELF = crypto.createHash('sha256').update(fs.readFileSync(__filename)).update(version).digest('hex');

module.exports = {
  process(source, filename) {
    const out = transformSync(source, {
      loader: filename.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'cjs',
      target: 'es2022',
      sourcemap: 'inline',
      sourcefile: filename,
      keepNames: true,
      // jest's CommonJS runtime has no ESM loader: turn import() into a deferred require().
      supported: { 'dynamic-import': false },
    });
    return { code: out.code };
  },
  getCacheKey(source, filename) {
    return crypto.createHash('sha256').update(SELF).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
