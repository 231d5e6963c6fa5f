/**
 * A local sink's `written` callback tells the caller its bytes are in the file (the accepted writer
 * then reuses the memory, see ByteOut.release): by the time it runs, the file must already hold them.
 */
import * as fs from 'fs';
import { LocalTarget } from '../../processor/src/sink';
import { HashThread } from '../../processor/src/hash-thread';
import { createHash } from 'crypto';
import { tempDir } from './local-helpers';

describe('local sink written callback', () => {
  it.each([
    ['inline hash', false],
    ['hashing thread', true],
  ])('runs only once the bytes are in the file (%s)', async (_name, thread) => {
    const hashes = thread ? new HashThread() : undefined;
    try {
      const target = new LocalTarget(tempDir());
      const sink = target.open('out/data.bin', 'application/octet-stream', hashes?.create()) as ReturnType<LocalTarget['open']> & { temp: string };
      expect(sink.reportsWritten).toBe(true);
      const checks: Promise<void>[] = [];
      let offset = 0;
      for (let i = 0; i < 40; i++) {
        const part = Buffer.alloc(512 * 1024 + i, 65 + (i % 26));
        const at = offset;
        offset += part.length;
        // One write at a time, as the pipeline writes (each awaits the stream's backpressure); the
        // callbacks are checked as they arrive, after later writes may already have been accepted.
        let written!: () => void;
        const accepted = new Promise<void>((resolveWrite) => { written = resolveWrite; });
        checks.push(
          new Promise<void>((resolve, reject) => {
            void sink.write(part, () => {
              try {
                const fd = fs.openSync(sink.temp, 'r');
                const back = Buffer.alloc(part.length);
                fs.readSync(fd, back, 0, back.length, at);
                fs.closeSync(fd);
                expect(back.equals(part)).toBe(true);
                // The caller may now overwrite its memory: what was hashed and written must not change.
                part.fill(0);
                resolve();
              } catch (err) {
                reject(err);
              }
            }).then(written, reject);
          }),
        );
        await accepted;
      }
      await Promise.all(checks);
      await sink.finish();
      expect(sink.bytes).toBe(offset);
      const expected = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.alloc(512 * 1024 + i, 65 + (i % 26))));
      expect(fs.readFileSync(sink.temp).equals(expected)).toBe(true);
      expect(sink.sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    } finally {
      await hashes?.close();
    }
  });
});
