/** SHA-256 on the helper thread (processor/src/hash-thread.ts): same digests, bounded, ordered, failures surface. */
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { InternalError } from '../../processor/src/errors';
import { HashThread, inlineHash } from '../../processor/src/hash-thread';
import { runShard } from '../../processor/src/pipeline';
import { LocalTarget } from '../../processor/src/sink';
import { openLocal } from '../../processor/src/source';
import { HEADER, row, tempDir } from './local-helpers';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('HashThread', () => {
  let thread: HashThread;
  beforeEach(() => (thread = new HashThread()));
  afterEach(() => thread.close());

  it('gives the digest createHash gives, for interleaved streams, pieces larger than the ring and empty streams', async () => {
    // 9 MiB pieces exceed the 4 MiB ring: they are taken in turns as the thread frees room (back-pressure).
    const sizes = [0, 1, 3, 4096, 1 << 20, (4 << 20) - 1, 4 << 20, 9 << 20, 17, 65537];
    const a = thread.create();
    const b = thread.create();
    const empty = thread.create();
    const partsA: Buffer[] = [];
    const partsB: Buffer[] = [];
    for (const size of sizes) {
      const pa = randomBytes(size);
      const pb = randomBytes(size >> 1);
      partsA.push(pa);
      partsB.push(pb);
      const wa = a.update(pa);
      const wb = b.update(pb);
      if (wa) await wa;
      if (wb) await wb;
    }
    expect(await Promise.all([a.digest(), b.digest(), empty.digest()])).toEqual([sha(...partsA), sha(...partsB), sha()]);
  });

  it('hashes the bytes given even when they change after update returned (they were copied), and keeps order when queued', async () => {
    const h = thread.create();
    const big = randomBytes(6 << 20);
    const expected = createHash('sha256');
    // Nothing awaited: the second and third updates queue behind the first; the digest follows them.
    const waits = [h.update(big), h.update(Buffer.from('tail-1')), h.update(Buffer.from('tail-2'))];
    expected.update(big).update('tail-1').update('tail-2');
    const digest = h.digest();
    await Promise.all(waits);
    expect(await digest).toBe(expected.digest('hex'));
    const small = Buffer.from('abc');
    const g = thread.create();
    expect(g.update(small)).toBeUndefined();
    small.fill(0);
    expect(await g.digest()).toBe(sha(Buffer.from('abc')));
  });

  it('a discarded stream does not disturb the others', async () => {
    const kept = thread.create();
    const dropped = thread.create();
    await dropped.update(randomBytes(5 << 20));
    dropped.discard();
    kept.update(Buffer.from('kept'));
    expect(await kept.digest()).toBe(sha(Buffer.from('kept')));
  });

  it('fails pending and later digests once the thread is gone (internal error, never a wrong digest)', async () => {
    const h = thread.create();
    h.update(Buffer.from('x'));
    const pending = expect(h.digest()).rejects.toBeInstanceOf(InternalError);
    await thread.close();
    await pending;
    expect(() => thread.create().update(Buffer.from('y'))).toThrow(InternalError);
  });
});

describe('inlineHash', () => {
  it('is the same interface on the calling thread', async () => {
    const h = inlineHash();
    h.update(Buffer.from('ab'));
    h.update(Buffer.from('c'));
    expect(await h.digest()).toBe(sha(Buffer.from('abc')));
    await expect(h.digest()).rejects.toBeInstanceOf(InternalError);
  });
});

describe('runShard hashing', () => {
  it('records the same input and output digests with the helper thread as on the calling thread, equal to the files', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.csv');
    const rows = [HEADER];
    for (let i = 0; i < 30000; i++) rows.push(i % 97 === 0 ? 'broken' : row(`T${i % 29000}`, { accountId: `ACC-${i % 311}` }));
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const threaded = await runShard(await openLocal(file), new LocalTarget(path.join(dir, 'a')), { index: 0, count: 1 });
    const inline = await runShard(await openLocal(file), new LocalTarget(path.join(dir, 'b')), { index: 0, count: 1 }, { hashThread: false });
    const strip = (s: typeof threaded) => JSON.parse(JSON.stringify(s).split(path.join(dir, 'a')).join('<out>').split(path.join(dir, 'b')).join('<out>'));
    expect(strip(threaded)).toEqual(strip(inline));
    expect(threaded.input.sha256).toBe(sha(fs.readFileSync(file)));
    const shard = path.join(dir, 'a', 'shard-0-of-1');
    const o = threaded.outputs;
    for (const [name, digest] of [
      ['accepted.jsonl', o.acceptedSha256],
      ['rejects.jsonl', o.rejectsSha256],
      ['totals-by-account.jsonl', o.totalsByAccountSha256],
      ['fingerprints.tsv', o.fingerprintsSha256],
    ] as const) {
      expect(digest).toBe(sha(fs.readFileSync(path.join(shard, name))));
    }
  });
});
