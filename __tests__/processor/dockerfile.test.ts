/**
 * The processor image builds its bundle from the folders the Dockerfile copies: every source folder
 * the bundle reads (esbuild's metafile, node_modules aside) must be copied, or the image build fails.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

it('the Dockerfile copies every source folder the processor bundle reads', async () => {
  const result = await build({
    entryPoints: [path.join(ROOT, 'processor', 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outdir: path.join(ROOT, '.build', 'dockerfile-check'),
  });
  const folders = new Set(Object.keys(result.metafile.inputs)
    .map((input) => path.relative(ROOT, path.resolve(ROOT, input)).split(path.sep))
    .filter((parts) => parts[0] !== 'node_modules')
    .map((parts) => (parts[0] === 'processor' ? `${parts[0]}/${parts[1]}` : parts[0])));
  const copied = [...fs.readFileSync(path.join(ROOT, 'processor', 'Dockerfile'), 'utf8').matchAll(/^COPY (\S+) /gm)].map((m) => m[1]);
  expect([...folders].sort()).toEqual(expect.arrayContaining(['contracts', 'domain', 'processor/src']));
  expect([...folders].filter((f) => !copied.includes(f))).toEqual([]);
});
