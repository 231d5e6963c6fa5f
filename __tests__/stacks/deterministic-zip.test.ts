/**
 * The deterministic zip of Lambda bundles (stacks/lib/deterministic-zip.ts). A standard unzip reading
 * it and two independent esbuild builds giving the same bytes: external-tools.test.ts (tooling);
 * NodejsFunction itself: constructs.test.ts.
 */
import { createZip, crc32 } from '../../stacks/lib/deterministic-zip';

describe('deterministic zip', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
  });

  it('is byte-identical for the same entries in any order', () => {
    const a = createZip([{ name: 'b.txt', data: Buffer.from('bee') }, { name: 'index.js', data: Buffer.from('exports.handler=1') }]);
    const b = createZip([{ name: 'index.js', data: Buffer.from('exports.handler=1') }, { name: 'b.txt', data: Buffer.from('bee') }]);
    expect(a.equals(b)).toBe(true);
  });
});
