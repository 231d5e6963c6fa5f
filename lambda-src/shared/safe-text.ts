/**
 * Bounded, scrubbed text for everything a handler stores or logs that did not originate in our own
 * code: error messages, Batch status reasons, object keys, workflow causes. Two rules:
 *
 *  - card numbers never leave: any text the domain detector (`domain/pan.ts`) flags is replaced
 *    whole by a marker (masking part of it would still leak digits and the detector's view of where a
 *    number starts and ends is not something to bet on);
 *  - sizes are bounded: one message is at most MAX_MESSAGE_BYTES of UTF-8 (1 KB), an audit item's
 *    details or an SNS message at most the bytes given (well under DynamoDB's 400 KB item limit and
 *    SNS's 256 KB message limit), so a huge input can never make the audit write or the alert fail.
 *
 * Control characters are replaced (they corrupt log lines). Errors created by handlers name
 * positions, counts and codes, never field content; `errorSummary` is for errors from elsewhere.
 */
import { containsPan } from '../../domain/pan';

export const MAX_MESSAGE_BYTES = 1024;
/** Audit `details` JSON: far below the 400 KB DynamoDB item limit, leaving room for the keys. */
export const MAX_AUDIT_DETAILS_BYTES = 16 * 1024;
/** SNS message body: far below the 256 KB limit. */
export const MAX_SNS_MESSAGE_BYTES = 32 * 1024;
export const WITHHELD = '[withheld: card-number-like value]';

const TRUNCATED = '…[truncated]';

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character; marks the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(TRUNCATED, 'utf8'));
  // Only the first `budget` chars can fit (each is >= 1 byte): never encode a 19 MB string whole.
  const buf = Buffer.from(text.slice(0, budget), 'utf8');
  let end = Math.min(budget, buf.length);
  // Back up to a character boundary (a UTF-8 continuation byte is 10xxxxxx).
  while (end > 0 && end < buf.length && (buf[end] & 0xc0) === 0x80) end--;
  const out = buf.subarray(0, end).toString('utf8');
  return out + TRUNCATED;
}

/**
 * External text made safe to store or log: undefined for nothing, the WITHHELD marker when it holds a
 * card-number-like value, else the text with control characters replaced, capped at `maxBytes`.
 * The whole text is checked before it is cut, so a number split by the cut is still found.
 */
export function safeText(text: unknown, maxBytes = MAX_MESSAGE_BYTES): string | undefined {
  if (text === undefined || text === null) return undefined;
  const s = typeof text === 'string' ? text : String(text);
  if (s === '') return undefined;
  if (containsPan(s)) return WITHHELD;
  return truncateUtf8(s.length > 4 * maxBytes ? s.slice(0, 4 * maxBytes) : s, maxBytes).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** An S3 object key for logs and stored records: keys are chosen by whoever uploads, so they are external text. */
export function safeKey(key: unknown): string | undefined {
  return safeText(key, 512);
}

/** Name, code and a scrubbed, bounded message of an error from a library or another service. */
export function errorSummary(err: unknown, maxBytes = MAX_MESSAGE_BYTES): { name: string; code?: string; message?: string } {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; sqlMessage?: unknown };
  const name = safeText(typeof e.name === 'string' ? e.name : 'Error', 128) ?? 'Error';
  const code = typeof e.code === 'string' ? safeText(e.code, 64) : undefined;
  // Database messages quote the offending values ("Duplicate entry '...' for key"): the code is enough.
  const message = e.sqlMessage !== undefined ? undefined : safeText(typeof e.message === 'string' ? e.message : undefined, maxBytes);
  return { name, ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/**
 * JSON of `value` in at most `maxBytes`: every string inside is scrubbed and capped at 1 KB; if the
 * result is still too large, the longest strings are cut further until it fits, and as a last resort
 * the object is replaced by `{truncated: true, bytes}`. Always valid JSON.
 */
export function boundedJson(value: unknown, maxBytes: number): string {
  const scrub = (v: unknown, depth: number, perString: number): unknown => {
    if (typeof v === 'string') return safeText(v, perString) ?? '';
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object') return v;
    if (depth > 8) return '[nested too deep]';
    if (Array.isArray(v)) return v.slice(0, 100).map((x) => scrub(x, depth + 1, perString));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>).slice(0, 100)) {
      const key = safeText(k, 64);
      if (key !== undefined && key !== WITHHELD) out[key] = scrub(x, depth + 1, perString);
    }
    return out;
  };
  for (const perString of [MAX_MESSAGE_BYTES, 256, 64]) {
    const text = JSON.stringify(scrub(value, 0, perString)) ?? 'null';
    if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  }
  return JSON.stringify({ truncated: true });
}
