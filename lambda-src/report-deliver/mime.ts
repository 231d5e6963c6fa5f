/**
 * A small, deterministic MIME builder (RFC 5322 message format, RFC 2045/2046 multipart, RFC 2047
 * encoded words) for the report e-mail: multipart/mixed with one text/plain UTF-8 part and the report
 * as attachments, base64 in lines of 76 characters, CRLF line endings throughout. SES v2 sends it as
 * `Content.Raw`.
 *
 * Deterministic: the same input gives the same bytes (the date is an argument and the boundary is
 * either given or derived from the content), so tests compare exact output.
 *
 * Header injection is impossible by construction: every value that lands in a header (addresses,
 * display names, subject, message id, file name, content type, boundary) is refused if it holds CR, LF
 * or any other control character, and addresses and file names must match strict patterns.
 */
import { createHash } from 'crypto';

export class MimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MimeError';
  }
}

export interface MimeAddress {
  address: string;
  /** Display name; any Unicode text without control characters (RFC 2047-encoded when non-ASCII). */
  name?: string;
}

export interface MimeAttachment {
  /** [A-Za-z0-9._-], 1-200 characters, not starting with a dot. */
  filename: string;
  /** type/subtype, e.g. application/json. */
  contentType: string;
  content: Uint8Array;
}

export interface MimeMessage {
  from: MimeAddress | string;
  to: Array<MimeAddress | string>;
  subject: string;
  /** The Date header (RFC 5322 date-time, written in UTC). */
  date: Date;
  /** `<left@right>`; optional (SES assigns its own Message-ID when absent). */
  messageId?: string;
  /** The text/plain body; any line ending is written as CRLF. */
  text: string;
  attachments: MimeAttachment[];
  /** Multipart boundary; default: derived from the content. 1-70 RFC 2046 boundary characters. */
  boundary?: string;
}

const CRLF = '\r\n';
/** C0 controls (CR, LF, NUL, ...) and DEL; tab is allowed only where folding whitespace is. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** A plain addr-spec: dot-atom local part and a domain name, ASCII only (no SMTPUTF8). */
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const FILENAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const TOKEN = "[A-Za-z0-9!#$&^_.+-]+";
const CONTENT_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);
/** RFC 2046 bcharsnospace; we never use a space in a boundary. */
const BOUNDARY = /^[A-Za-z0-9'()+_,\-./:=?]{1,70}$/;
const MESSAGE_ID = /^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+>$/;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/**
 * Bytes of UTF-8 per RFC 2047 encoded word: 39 bytes = 52 base64 characters, a 64-character word, so
 * "Subject: " + word stays within 78 characters (an encoded word may be at most 75).
 */
const ENCODED_WORD_BYTES = 39;

function refuseControls(value: string, what: string, allowTab = false): void {
  if ((allowTab ? CONTROL_BUT_TAB : CONTROL).test(value)) {
    throw new MimeError(`${what} must not contain CR, LF or other control characters`);
  }
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** RFC 2047 B-encoded words, split on character boundaries, folded with CRLF SP. */
function encodedWords(text: string): string {
  const words: number[][] = [];
  let chunk: number[] = [];
  for (const ch of text) {
    const bytes = [...Buffer.from(ch, 'utf8')];
    if (chunk.length + bytes.length > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length || !words.length) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join(`${CRLF} `);
}

/** An unstructured header value (Subject): as is when short printable ASCII, else encoded words. */
function unstructured(name: string, value: string): string {
  refuseControls(value, `${name} header`);
  if (isAscii(value) && name.length + 2 + value.length <= 78) return `${name}: ${value}`;
  return `${name}: ${encodedWords(value)}`;
}

function address(value: MimeAddress | string, what: string): string {
  const a = typeof value === 'string' ? { address: value } : value;
  refuseControls(a.address, `${what} address`);
  if (a.address.length > 254 || !ADDRESS.test(a.address)) throw new MimeError(`${what} address is not a plain ASCII email address`);
  if (a.name === undefined || a.name === '') return a.address;
  refuseControls(a.name, `${what} display name`);
  // Printable ASCII goes in a quoted-string; anything else as encoded words (allowed in a phrase).
  const phrase = isAscii(a.name) ? `"${a.name.replace(/(["\\])/g, '\\$1')}"` : encodedWords(a.name);
  return `${phrase} <${a.address}>`;
}

/** RFC 5322 date-time in UTC: "Mon, 23 Nov 2026 01:00:00 +0000". */
export function rfc5322Date(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new MimeError('date must be a valid Date');
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} `
    + `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** base64 in lines of 76 characters, each ended by CRLF (RFC 2045 6.8). */
export function base64Lines(content: Uint8Array): string {
  const b64 = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.length ? lines.join(CRLF) + CRLF : '';
}

/** Text with every line ending as CRLF; 7bit when it is short-lined ASCII, else base64 of its UTF-8. */
function textPart(text: string): { encoding: '7bit' | 'base64'; body: string } {
  refuseControls(text.replace(/\r\n|\r|\n/g, ''), 'text body', true);
  const lines = text.replace(/\r\n|\r|\n/g, '\n').split('\n');
  if (lines.every((l) => l.length <= 998 && /^[\x20-\x7e\t]*$/.test(l))) {
    const body = lines.join(CRLF);
    return { encoding: '7bit', body: body.endsWith(CRLF) ? body : body + CRLF };
  }
  return { encoding: 'base64', body: base64Lines(Buffer.from(lines.join(CRLF), 'utf8')) };
}

function checkedBoundary(boundary: string): string {
  refuseControls(boundary, 'boundary');
  if (!BOUNDARY.test(boundary)) throw new MimeError('boundary must be 1-70 characters of [A-Za-z0-9\'()+_,-./:=?]');
  return boundary;
}

/** The whole message, ASCII only, as bytes ready for SES `Content.Raw.Data`. */
export function buildMimeMessage(msg: MimeMessage): Buffer {
  if (!msg.to.length) throw new MimeError('at least one To address is required');
  const text = textPart(msg.text);
  const parts = msg.attachments.map((a) => {
    refuseControls(a.filename, 'attachment filename');
    if (!FILENAME.test(a.filename)) throw new MimeError('attachment filename must be 1-200 characters of [A-Za-z0-9._-], not starting with a dot');
    refuseControls(a.contentType, 'attachment content type');
    if (!CONTENT_TYPE.test(a.contentType)) throw new MimeError('attachment content type must be type/subtype');
    return { ...a, body: base64Lines(a.content) };
  });
  const boundary = checkedBoundary(msg.boundary ?? defaultBoundary(msg));
  const delimiter = `--${boundary}`;
  for (const body of [text.body, ...parts.map((p) => p.body)]) {
    if (body.includes(delimiter)) throw new MimeError('boundary occurs in the content: choose another');
  }
  const headers = [
    `From: ${address(msg.from, 'From')}`,
    `To: ${msg.to.map((t) => address(t, 'To')).join(`,${CRLF} `)}`,
    unstructured('Subject', msg.subject),
    `Date: ${rfc5322Date(msg.date)}`,
  ];
  if (msg.messageId !== undefined) {
    refuseControls(msg.messageId, 'Message-ID');
    if (!MESSAGE_ID.test(msg.messageId)) throw new MimeError('Message-ID must look like <id@domain>');
    headers.push(`Message-ID: ${msg.messageId}`);
  }
  headers.push('MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`);
  const out = [
    headers.join(CRLF), CRLF, CRLF,
    delimiter, CRLF,
    'Content-Type: text/plain; charset=UTF-8', CRLF,
    `Content-Transfer-Encoding: ${text.encoding}`, CRLF, CRLF,
    text.body,
  ];
  for (const p of parts) {
    out.push(
      delimiter, CRLF,
      `Content-Type: ${p.contentType}; name="${p.filename}"`, CRLF,
      `Content-Disposition: attachment; filename="${p.filename}"`, CRLF,
      'Content-Transfer-Encoding: base64', CRLF, CRLF,
      // An empty body is still one line: the CRLF before a delimiter belongs to the delimiter (RFC 2046).
      p.body || CRLF,
    );
  }
  out.push(`${delimiter}--`, CRLF);
  return Buffer.from(out.join(''), 'ascii');
}

/** A boundary derived from the content: "=_" can never occur in base64 text, and ours is checked anyway. */
function defaultBoundary(msg: MimeMessage): string {
  const h = createHash('sha256').update(msg.text, 'utf8');
  for (const a of msg.attachments) h.update(a.filename).update('\0').update(a.content);
  return `=_part_${h.digest('hex').slice(0, 32)}`;
}
