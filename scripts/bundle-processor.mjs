// Bundles the processor into one file for the container image (processor/Dockerfile) and the benchmark.
// The AWS SDK is bundled too: the runtime image then needs no node_modules at all.
import { build } from 'esbuild';
import { fileURLToPath } from 'url';
import path from 'path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, '.build', 'processor', 'main.js');

await build({
  entryPoints: [path.join(root, 'processor', 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: false,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
console.log(`bundled processor -> ${path.relative(process.cwd(), outfile)}`);
