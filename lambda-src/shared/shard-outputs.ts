/**
 * Reading a processor shard's outputs safely (contracts.md): `processed/<runId>/<jobId>/shard-<i>-of-<n>/`
 * holds `accepted.jsonl`, `rejects.jsonl` and `summary.json`, the shard's commit marker, written last.
 * A consumer (the report loader, the local run) may use a shard only when
 *  - its summary.json exists (an accepted.jsonl without it is an unfinished or failed shard), and
 *  - the accepted.jsonl it reads has exactly the byte count and SHA-256 the summary recorded
 *    (`outputs.acceptedBytes`, `outputs.acceptedSha256`, lowercase hex): a file replaced, truncated or
 *    corrupted after the commit is refused. The hash is computed while the file streams through, so
 *    nothing is buffered and nothing is read twice; the caller learns of a mismatch at the end of the
 *    stream and must treat everything it derived from the file as void (the loader rolls back).
 */
import * as crypto from 'crypto';
import { StringDecoder } from 'string_decoder';
import { PermanentError } from './errors';

export const ACCEPTED = 'accepted.jsonl';
export const SUMMARY = 'summary.json';
const SHA256 = /^[0-9a-f]{64}$/;

export interface CommittedShard {
  /** The shard's directory key, `processed/<runId>/<jobId>/shard-<i>-of-<n>`. */
  dir: string;
  acceptedKey: string;
  acceptedBytes: number;
  acceptedSha256: string;
}

/** Shard directories under a run's prefix, split into committed (summary.json present) and not. */
export function shardDirsOf(keys: string[]): { committed: string[]; uncommitted: string[] } {
  const dirs = new Map<string, { accepted: boolean; summary: boolean }>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    const name = key.slice(slash + 1);
    if (name !== ACCEPTED && name !== SUMMARY) continue;
    const dir = key.slice(0, slash);
    const d = dirs.get(dir) ?? { accepted: false, summary: false };
    if (name === ACCEPTED) d.accepted = true;
    else d.summary = true;
    dirs.set(dir, d);
  }
  const sorted = [...dirs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    committed: sorted.filter(([, d]) => d.summary).map(([dir]) => dir),
    uncommitted: sorted.filter(([, d]) => !d.summary).map(([dir]) => dir),
  };
}

/** The commit record of a shard from its summary.json text; PermanentError naming the shard and the field. */
export function parseCommit(dir: string, summaryText: string): CommittedShard {
  let summary: { outputs?: Record<string, unknown> };
  try {
    summary = JSON.parse(summaryText) as typeof summary;
  } catch {
    throw new PermanentError(`${dir}/${SUMMARY}: not JSON`);
  }
  const outputs = summary?.outputs;
  if (!outputs || typeof outputs !== 'object') throw new PermanentError(`${dir}/${SUMMARY}: no outputs`);
  const bytes = outputs.acceptedBytes;
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 0) throw new PermanentError(`${dir}/${SUMMARY}: outputs.acceptedBytes must be a non-negative integer`);
  const sha = outputs.acceptedSha256;
  if (typeof sha !== 'string' || !SHA256.test(sha)) {
    throw new PermanentError(`${dir}/${SUMMARY}: outputs.acceptedSha256 must be the lowercase hex SHA-256 of accepted.jsonl (unverifiable shard refused)`);
  }
  return { dir, acceptedKey: `${dir}/${ACCEPTED}`, acceptedBytes: bytes as number, acceptedSha256: sha };
}

/**
 * The lines of a committed shard's accepted.jsonl (line number from 1, text without the newline),
 * hashing and counting bytes as they stream. After the last line, throws PermanentError if the byte
 * count or the SHA-256 differs from the commit record; a file longer than recorded is refused as soon
 * as it passes the recorded size. Memory: one chunk plus one partial line.
 */
export async function* verifiedLines(body: AsyncIterable<Uint8Array | string>, shard: CommittedShard): AsyncGenerator<{ n: number; line: string }> {
  const hash = crypto.createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let rest = '';
  let n = 0;
  for await (const part of body) {
    const chunk = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    bytes += chunk.length;
    if (bytes > shard.acceptedBytes) throw new PermanentError(`${shard.acceptedKey}: longer than the ${shard.acceptedBytes} bytes its summary.json recorded`);
    hash.update(chunk);
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield { n: ++n, line: text.slice(start, nl) };
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (bytes !== shard.acceptedBytes) throw new PermanentError(`${shard.acceptedKey}: ${bytes} bytes, its summary.json recorded ${shard.acceptedBytes}`);
  if (hash.digest('hex') !== shard.acceptedSha256) throw new PermanentError(`${shard.acceptedKey}: SHA-256 differs from the one its summary.json recorded`);
  if (rest !== '') yield { n: ++n, line: rest };
}

/** Reads a committed shard's accepted.jsonl to the end and checks it; returns its line count. */
export async function verifyAccepted(body: AsyncIterable<Uint8Array | string>, shard: CommittedShard): Promise<number> {
  let lines = 0;
  for await (const l of verifiedLines(body, shard)) lines = l.n;
  return lines;
}
