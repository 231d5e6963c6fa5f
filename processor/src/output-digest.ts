/**
 * Verification of a committed output against summary.json: `outputs.acceptedBytes` /
 * `outputs.acceptedSha256` (and the same for rejects) are the byte count and lowercase hex SHA-256 of
 * exactly the bytes the processor wrote. A reader streams the object through this and compares
 * before trusting it (a truncated, extended or corrupted file fails). No I/O of its own.
 */
import { createHash } from 'crypto';

export interface ExpectedDigest {
  bytes: number;
  sha256: string;
}

export interface DigestCheck {
  ok: boolean;
  bytes: number;
  sha256: string;
  /** Why it failed (sizes and hashes only, never content). */
  problem?: string;
}

export async function verifyOutputDigest(expected: ExpectedDigest, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<DigestCheck> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  const sha256 = hash.digest('hex');
  if (bytes !== expected.bytes) return { ok: false, bytes, sha256, problem: `size ${bytes} bytes, summary says ${expected.bytes}` };
  if (sha256 !== expected.sha256) return { ok: false, bytes, sha256, problem: `SHA-256 ${sha256}, summary says ${expected.sha256}` };
  return { ok: true, bytes, sha256 };
}
