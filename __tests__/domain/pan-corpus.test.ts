/**
 * The card-number detector against a corpus of written forms (detection rate, must be 100%), a
 * million generated clean rows (false positives, must be 0) and classes of look-alikes (false
 * positives printed; asserted 0 where the design guarantees it).
 */
import { containsPan, containsPanRange, findPan, luhnValid, PanBrand } from '../../domain/pan';
import { cleanRecord, rng } from '../../scripts/generate-transactions';
import { reportFigure } from '../../test-support/setup-jest';

function checkDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return String(d);
  throw new Error('unreachable');
}

/** A Luhn-valid number of `length` digits starting with `prefix`, filled from `random`. */
function cardNumber(prefix: string, length: number, random: () => number): string {
  let body = prefix;
  while (body.length < length - 1) body += Math.floor(random() * 10);
  return body + checkDigit(body);
}

const random = rng(7);
// Published test numbers plus generated numbers for every brand, IIN range edge and valid length.
const CARDS: [PanBrand, string][] = [
  ['visa', '4111111111111111'], ['visa', '4012888888881881'], ['visa', '4222222222222'],
  ['visa', cardNumber('4', 19, random)],
  ['mastercard', '5555555555554444'], ['mastercard', '5105105105105100'], ['mastercard', '2223003122003222'],
  ['mastercard', cardNumber('2720', 16, random)], ['mastercard', cardNumber('55', 16, random)],
  ['amex', '378282246310005'], ['amex', '371449635398431'], ['amex', cardNumber('34', 15, random)],
  ['discover', '6011111111111117'], ['discover', '6011000990139424'], ['discover', cardNumber('644', 16, random)],
  ['discover', cardNumber('649', 19, random)], ['discover', cardNumber('65', 17, random)],
  ['discover', cardNumber('622126', 16, random)], ['discover', cardNumber('622925', 18, random)],
  ['jcb', '3530111333300000'], ['jcb', '3566002020360505'], ['jcb', cardNumber('3528', 19, random)], ['jcb', cardNumber('3589', 16, random)],
  ['diners', '30569309025904'], ['diners', '38520000023237'], ['diners', '36227206271667'],
  ['diners', cardNumber('300', 14, random)], ['diners', cardNumber('3095', 16, random)], ['diners', cardNumber('39', 19, random)],
  ['unionpay', '6200000000000005'], ['unionpay', cardNumber('62', 19, random)], ['unionpay', cardNumber('6288', 17, random)],
  ['mir', cardNumber('2200', 16, random)], ['mir', cardNumber('2204', 19, random)],
  ['maestro', '6759649826438453'], ['maestro', cardNumber('50', 13, random)], ['maestro', cardNumber('56', 16, random)],
  ['maestro', cardNumber('6304', 19, random)], ['maestro', cardNumber('69', 14, random)],
];

/** Groups of 4 (Amex/Diners-14: 4-6-rest), the way cards are printed. */
function groups(pan: string): string[] {
  if (pan.length === 15 || pan.length === 14) return [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)];
  const out: string[] = [];
  for (let i = 0; i < pan.length; i += 4) out.push(pan.slice(i, i + 4));
  return out;
}

const SEPARATORS = [' ', '-', '.', '/', '_', '  ', ' - ', '\t', '\u00a0', '\u2007', '\u2009', '\u202f', '\u3000', ', '];
const FORMS: [string, (pan: string) => string][] = [
  ['plain', (p) => p],
  ...SEPARATORS.map((sep): [string, (pan: string) => string] => [`grouped with ${JSON.stringify(sep)}`, (p) => groups(p).join(sep)]),
  ['mixed separators', (p) => groups(p).map((g, i) => (i ? ['.', ' ', '/', '--'][i % 4] : '') + g).join('')],
  ['after a year', (p) => `inv 2026 ${groups(p).join(' ')}`],
  ['glued to a year', (p) => `2026${p}`],
  ['between a quantity and a number', (p) => `qty 3 ${groups(p).join('-')} 77`],
  ['in a sentence', (p) => `please charge card ${p} today`],
  ['between letters', (p) => `x${p}y`],
  ['in JSON', (p) => `{"note":"${groups(p).join(' ')}"}`],
  ['as UTF-8 bytes read as latin1 (processor)', (p) => Buffer.from(groups(p).join('\u00a0'), 'utf8').toString('latin1')],
  ['grouped with a decimal tail', (p) => `${groups(p).join(' ')}.00`],
  ['quoted with a sign', (p) => `"+ ${groups(p).join(' ')}"`.replace('+ ', '# ')],
];

describe('detection corpus', () => {
  it('finds every written form of every brand (detection rate 100%)', () => {
    let total = 0;
    const missed: string[] = [];
    for (const [brand, pan] of CARDS) {
      expect(luhnValid(pan)).toBe(true);
      for (const [form, write] of FORMS) {
        total++;
        const text = write(pan);
        if (!containsPan(text)) missed.push(`${brand} ${form}: ${JSON.stringify(text)}`);
      }
    }
    const rate = ((total - missed.length) / total) * 100;
    reportFigure(`PAN corpus: ${total} written forms of ${CARDS.length} numbers (${new Set(CARDS.map((c) => c[0])).size} brands); detected ${total - missed.length} (${rate.toFixed(2)}%)`);
    expect(total).toBeGreaterThanOrEqual(60);
    expect(missed).toEqual([]);
  });

  it.each(CARDS)('findPan names the brand %s and the position, never the digits', (brand, pan) => {
    const text = `ref: ${groups(pan).join(' ')} end`;
    const hit = findPan(text);
    expect(hit).toEqual({ start: 5, end: 5 + groups(pan).join(' ').length, brand });
    expect(JSON.stringify(hit)).not.toContain(pan.slice(0, 6));
  });

  it('flags brand IINs only at their valid lengths', () => {
    // Written in groups of 4, so the only candidate windows are the whole number and group-aligned parts.
    const written = (prefix: string, length: number) => groups(cardNumber(prefix, length, rng(1))).join(' ');
    expect(containsPan(groups('378282246310005').join(' '))).toBe(true);
    expect(containsPan(written('37', 16))).toBe(false); // Amex is 15 digits
    expect(containsPan(written('51', 15))).toBe(false); // Mastercard is 16
    expect(containsPan(written('4', 14))).toBe(false); // Visa is 13, 16 or 19
    expect(containsPan(written('7', 16))).toBe(false); // no brand issues 7
    expect(containsPan(written('2721', 16))).toBe(false); // just past the Mastercard 2-series
    expect(containsPan(written('2220', 16))).toBe(false); // just before it
    expect(containsPan(written('3590', 16))).toBe(false); // just past JCB
  });

  it('searches only the given range', () => {
    const text = 'id 4111111111111111';
    expect(containsPanRange(text, 0, 10)).toBe(false);
    expect(containsPanRange(text, 3, text.length)).toBe(true);
  });
});

describe('IBANs and UUIDs are not card numbers, but a card next to one is', () => {
  it.each([
    ['DE89 3704 0044 0532 0130 00'], ['DE89370400440532013000'], ['iban: ES91 2100 0418 4502 0005 1332, ref 7'], ['00000000-0000-4000-8000-411111111111'],
  ])('%s is not flagged', (text) => {
    expect(containsPan(text)).toBe(false);
  });

  it.each([
    ['DE89 3704 0044 0532 0130 00 4111 1111 1111 1111'], ['4111 1111 1111 1111 DE89 3704 0044 0532 0130 00'],
    ['DE61 5612 2612 9171 9469 90'], // mod-97 fails (the IBAN ends in 91): not an IBAN, and it holds an 18-digit Maestro-shaped window
    ['00000000-0000-4000-8000-411111111111 4111111111111111'],
  ])('%s is flagged', (text) => {
    expect(containsPan(text)).toBe(true);
  });
});

describe('amounts are not card numbers', () => {
  it.each([
    ['1234567890123.45'], ['-4111111111111.11'], ['4222222222222.00'], ['4,111,111,111,111.11'], ['4.111.111.111.111,11'], ['4 111 111 111 111'], ['4111111111111,11'], ['USD 411111111111111.1111'], ['"amount":"5500000000000.04"'],
  ])('%s is one plain decimal: not flagged', (text) => {
    expect(containsPan(text)).toBe(false);
  });

  it.each([
    ['4111.1111.1111.1111'], // three separators: a grouped card number
    ['4111111111111111.00'], // 16 integer digits: more than any accepted amount
    ['1.4111111111111111'], // a card number after the decimal point
    ['12.50 4111111111111111'], // an amount next to a card number
  ])('%s is flagged', (text) => {
    expect(containsPan(text)).toBe(true);
  });
});

// ---- false positives -------------------------------------------------------------------------

describe('false positives', () => {
  it("none on 1,000,000 clean rows from the generator's own record code (each field, and each whole line as a log line)", () => {
    const r = rng(42);
    let fieldHits = 0;
    let lineHits = 0;
    const rows = 1_000_000;
    for (let i = 0; i < rows; i++) {
      const fields = Object.values(cleanRecord(i, r).rec);
      for (const f of fields) if (containsPanRange(f, 0, f.length)) fieldHits++;
      if (containsPan(fields.join(','))) lineHits++;
    }
    reportFigure(`PAN false positives on ${rows.toLocaleString('en-US')} clean rows: ${fieldHits} fields, ${lineHits} whole lines`);
    expect(fieldHits).toBe(0);
    expect(lineHits).toBe(0);
  });

  const r = rng(2026);
  const int = (n: number) => Math.floor(r() * n);
  const pad = (v: number, w: number) => String(v).padStart(w, '0');
  const date = () => `${2000 + int(100)}-${pad(1 + int(12), 2)}-${pad(1 + int(28), 2)}`;
  const time = () => `${pad(int(24), 2)}:${pad(int(60), 2)}:${pad(int(60), 2)}`;
  const digits = (n: number) => Array.from({ length: n }, () => int(10)).join('');
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const offset = () => `${r() < 0.5 ? '+' : '-'}${pad(int(15), 2)}:${pad(int(4) * 15, 2)}`;
  const N = 20_000;

  function mod97(s: string): number {
    let m = 0;
    for (const ch of s) m = (m * (/\d/.test(ch) ? 10 : 100) + parseInt(ch, 36)) % 97;
    return m;
  }
  function iban(country: string, bban: string): string {
    const check = 98 - mod97(`${bban}${country}00`);
    return `${country}${pad(check, 2)}${bban}`;
  }
  const spaced = (s: string) => s.replace(/(.{4})/g, '$1 ').trim();

  /** [class, generator, guaranteed 0?] */
  const CLASSES: [string, () => string, boolean][] = [
    ['ISO dates', () => date(), true],
    ['ISO timestamps (T, Z or offset, optional fraction)', () => `${date()}T${time()}${r() < 0.5 ? `.${digits(3)}` : ''}${r() < 0.5 ? 'Z' : offset()}`, true],
    ['timestamps with a space (date time, optional offset)', () => `${date()} ${time()}${r() < 0.5 ? offset() : ''}`, true],
    ['date ranges', () => `${date()} - ${date()}`, true],
    ['compact timestamps (YYYYMMDDhhmmss)', () => date().replace(/-/g, '') + time().replace(/:/g, ''), true],
    ['compact timestamps with milliseconds', () => date().replace(/-/g, '') + time().replace(/:/g, '') + digits(3), false],
    ['international phone numbers', () => `+${['1', '44', '49', '33', '39', '34', '36', '61', '62', '65', '81', '86', '91'][int(13)]} ${digits(2 + int(2))} ${digits(3 + int(2))} ${digits(4 + int(2))}`, true],
    ['phone numbers, national', () => `(${digits(3)}) ${digits(3)}-${digits(4)}`, true],
    ['IBANs with letters in the BBAN (GB, NL), printed', () => spaced(r() < 0.5 ? iban('GB', `WEST${digits(14)}`) : iban('NL', `ABNA${digits(10)}`)), true],
    ['IBANs all digits (DE, ES), printed', () => spaced(r() < 0.5 ? iban('DE', digits(18)) : iban('ES', digits(20))), true],
    ['IBANs all digits (DE, ES), compact', () => (r() < 0.5 ? iban('DE', digits(18)) : iban('ES', digits(20))), true],
    ['long amounts (one plain decimal, up to 15 integer digits)', () => `${r() < 0.5 ? '-' : ''}${1 + int(9)}${digits(int(15))}.${digits(1 + int(4))}`, true],
    ['long amounts with thousands separators', () => `${1 + int(999)}${Array.from({ length: 3 + int(2) }, () => `,${digits(3)}`).join('')}.${digits(2)}`, true],
    ['UUIDs', () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(4)]}${hex(3)}-${hex(12)}`, true],
    ['invoice numbers', () => [`INV-${2000 + int(100)}-${digits(6)}`, `${2000 + int(100)}/${pad(1 + int(12), 2)}/${digits(6)}`, `INV ${date()} ${digits(6)}`][int(3)], true],
  ];

  it.each(CLASSES)('look-alikes: %s', (name, make, guaranteed) => {
    let hits = 0;
    let example = '';
    for (let i = 0; i < N; i++) {
      const text = make();
      if (containsPan(text)) {
        hits++;
        example ||= text;
      }
    }
    reportFigure(`PAN false positives, ${name}: ${hits} of ${N} (${((hits / N) * 100).toFixed(2)}%)${example ? `, e.g. ${JSON.stringify(example)}` : ''}`);
    if (guaranteed) expect(hits).toBe(0);
  });
});
