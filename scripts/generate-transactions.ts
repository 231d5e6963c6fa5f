/**
 * Deterministic generator of realistic transaction files, with a configurable share of bad records.
 *
 *   npm run generate -- --count 1000000 --out /tmp/tx.csv [--bad-share 0.03] [--seed 42] [--gzip]
 *        [--kinds amount,currency,pan,duplicate,columns,quote,timestamp,utf8] [--format csv|jsonl]
 *        [--shuffle-header] [--crlf] [--bom] [--manifest out.json] [--date 2026-11-20] [--entities E-1,E-2]
 *
 * The manifest holds what a correct processor must find: counts per kind and the exact per-currency
 * totals of the valid records, computed here independently of the processor.
 */
import * as fs from 'fs';
import { once } from 'events';
import { createGzip } from 'zlib';
import { pipeline } from 'stream/promises';
import { PassThrough } from 'stream';
import { isCalendarDate } from '../domain/dates';

export const BAD_KINDS = ['amount', 'currency', 'pan', 'duplicate', 'columns', 'quote', 'timestamp', 'utf8'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

export interface GenerateOptions {
  count: number;
  out: string;
  seed?: number;
  badShare?: number;
  kinds?: readonly BadKind[];
  gzip?: boolean;
  format?: 'csv' | 'jsonl';
  shuffleHeader?: boolean;
  crlf?: boolean;
  bom?: boolean;
  /** UTC day (YYYY-MM-DD) the transactions happen on; default 2026-11-20. */
  date?: string;
  /** Reporting entity ids to spread records over; default a fixed realistic set. */
  entities?: readonly string[];
}

export interface Manifest {
  count: number;
  valid: number;
  bad: Record<string, number>;
  /** Expected accepted totals per currency in minor units (decimal string of an integer). */
  totalsMinor: Record<string, string>;
  acceptedCount: number;
  columns: string[];
}

const COLUMNS = ['transactionId', 'accountId', 'entityId', 'amount', 'currency', 'timestamp', 'counterparty', 'jurisdiction', 'type', 'cardLast4'];
const CURRENCIES: [string, number, number][] = [['USD', 2, 40], ['EUR', 2, 30], ['GBP', 2, 20], ['JPY', 0, 10]];
const HOME: Record<string, string[]> = { USD: ['US', 'US', 'APAC'], EUR: ['EU'], GBP: ['UK', 'UK', 'EU'], JPY: ['APAC'] };
const TYPES: [string, number][] = [['TRANSACTION', 70], ['POSITION', 12], ['COLLATERAL', 10], ['MARGIN', 8]];
const DEFAULT_DATE = '2026-11-20';
const ENTITIES = ['BANK-EU-01', 'BANK-EU-02', 'BANK-US-01', 'BROKER-US-07', 'BANK-UK-03', 'FUND-APAC-11', 'CUSTODIAN-EU-5', 'LEI-5493001KJTIIGC8Y1R12'];
const COUNTERPARTIES = ['Acme Corp', 'Globex Ltd', 'Initech GmbH', 'Umbrella plc', 'Stark Industries', 'Wayne Enterprises, Inc.', 'Soylent "Green" SA', 'Müller & Söhne KG', 'Tanaka 商事', 'Société Générale'];

/** mulberry32: tiny, fast, deterministic (shared by the generator and the property tests). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T>(r: number, items: [T, ...unknown[]][], weightIndex: number): T {
  const total = items.reduce((s, it) => s + (it[weightIndex] as number), 0);
  let x = r * total;
  for (const it of items) {
    x -= it[weightIndex] as number;
    if (x < 0) return it[0];
  }
  return items[items.length - 1][0];
}

function luhnCheckDigit(body: string): number {
  let sum = 0;
  for (let i = body.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = body.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function fakePan(random: () => number): string {
  let body = '4';
  for (let i = 0; i < 14; i++) body += Math.floor(random() * 10);
  return body + luhnCheckDigit(body);
}

/** One valid record (field values as written), its currency and its amount in minor units. */
export interface CleanRecord {
  rec: Record<string, string>;
  currency: string;
  minor: number;
}

/**
 * Record `i` of a night starting at `base` (epoch ms), drawn from `random`: the valid shape every
 * generated row starts from (bad records are made by altering it). Also used by tests that need
 * realistic clean rows without writing a file.
 */
export function cleanRecord(i: number, random: () => number, base: number = Date.parse(`${DEFAULT_DATE}T00:00:00Z`), entities: readonly string[] = ENTITIES): CleanRecord {
  const rec: Record<string, string> = {};
  const [currency, digits] = weighted(random(), CURRENCIES.map((c) => [c, c[2]] as [typeof c, number]), 1);
  // Log-uniform amounts between 1 and 50,000,000 minor units: many small, some large.
  let minor = Math.max(1, Math.floor(Math.exp(random() * Math.log(50_000_000))));
  if (digits === 0) minor = Math.max(1, Math.floor(minor / 100));
  rec.transactionId = `TX${i.toString().padStart(10, '0')}`;
  rec.accountId = `ACC-${Math.floor(random() * 20000).toString().padStart(6, '0')}`;
  rec.entityId = entities[Math.floor(random() * entities.length)];
  rec.amount = digits === 0 ? String(minor) : `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
  rec.currency = currency;
  const t = new Date(base + Math.floor(random() * 86_400_000)).toISOString();
  rec.timestamp = random() < 0.8 ? t.replace('.000Z', 'Z') : t.slice(0, 19) + '+01:00';
  const homes = HOME[currency];
  rec.jurisdiction = homes[Math.floor(random() * homes.length)];
  // EU (MiFID II) and APAC reports require a counterparty on every transaction; elsewhere it is optional.
  const counterpartyRequired = rec.jurisdiction === 'EU' || rec.jurisdiction === 'APAC';
  rec.counterparty = counterpartyRequired || random() < 0.85 ? COUNTERPARTIES[Math.floor(random() * COUNTERPARTIES.length)] : '';
  rec.type = weighted(random(), TYPES, 1);
  rec.cardLast4 = random() < 0.3 ? String(Math.floor(random() * 10000)).padStart(4, '0') : '';
  return { rec, currency, minor };
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export async function generate(options: GenerateOptions): Promise<Manifest> {
  const random = rng(options.seed ?? 1);
  const badShare = options.badShare ?? 0.03;
  const kinds = options.kinds ?? BAD_KINDS;
  const format = options.format ?? 'csv';
  const columns = [...COLUMNS];
  if (options.shuffleHeader) {
    for (let i = columns.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [columns[i], columns[j]] = [columns[j], columns[i]];
    }
  }
  const eol = options.crlf ? '\r\n' : '\n';
  const manifest: Manifest = { count: options.count, valid: 0, bad: Object.fromEntries(kinds.map((k) => [k, 0])), totalsMinor: {}, acceptedCount: 0, columns };
  const totals: Record<string, bigint> = {};
  const base = Date.parse(`${options.date ?? DEFAULT_DATE}T00:00:00Z`);
  const entities = options.entities?.length ? options.entities : ENTITIES;

  const file = fs.createWriteStream(options.out);
  const out = new PassThrough();
  const done = options.gzip ? pipeline(out, createGzip(), file) : pipeline(out, file);
  const write = async (data: string | Buffer) => {
    if (!out.write(data)) await once(out, 'drain');
  };
  if (options.bom) await write(Buffer.from([0xef, 0xbb, 0xbf]));
  if (format === 'csv') await write(columns.join(',') + eol);

  let batch = '';
  let lastValid: string | undefined;
  for (let i = 0; i < options.count; i++) {
    const { rec, currency, minor } = cleanRecord(i, random, base, entities);

    let kind: BadKind | undefined;
    if (kinds.length > 0 && random() < badShare) kind = kinds[Math.floor(random() * kinds.length)];
    if (kind === 'duplicate' && lastValid === undefined) kind = undefined;
    let line: string | undefined;
    let raw: Buffer | undefined;
    switch (kind) {
      case 'amount':
        rec.amount = currency === 'JPY' ? ['1.5', '1e3', '-0', '0', '-100'][Math.floor(random() * 5)] : ['1e3', '-0', '12.345', '0.00', '-5.00', '1,000.00', '2000000.00', '.5'][Math.floor(random() * 8)];
        break;
      case 'currency':
        rec.currency = ['XYZ', 'usd', 'BTC', ''][Math.floor(random() * 4)];
        break;
      case 'pan':
        if (random() < 0.5) rec.counterparty = `card ${fakePan(random)}`;
        else rec.accountId = fakePan(random);
        break;
      case 'timestamp':
        rec.timestamp = ['2026-13-01T00:00:00Z', '2026-11-22 10:00:00', '2026-11-22T10:00:00', '2026-02-30T00:00:00Z'][Math.floor(random() * 4)];
        break;
      case 'duplicate':
        line = lastValid;
        break;
      default:
        break;
    }
    if (line === undefined) {
      if (format === 'jsonl') {
        const obj: Record<string, string> = {};
        for (const c of columns) if (rec[c] !== '' || (c !== 'counterparty' && c !== 'cardLast4')) obj[c] = rec[c];
        line = JSON.stringify(obj);
        if (kind === 'columns') line = line.slice(0, -1) + ',"extra":"x"}';
        if (kind === 'quote') line = line.slice(0, -2);
      } else {
        const fields = columns.map((c) => csvField(rec[c]));
        if (kind === 'columns') {
          if (random() < 0.5) fields.pop();
          else fields.push('extra');
        }
        if (kind === 'quote') fields[columns.indexOf('counterparty')] = random() < 0.5 ? '"Acme, unterminated' : 'Ac"me';
        line = fields.join(',');
      }
      if (kind === 'utf8') raw = Buffer.concat([Buffer.from(line.slice(0, 20)), Buffer.from([0xff, 0xfe]), Buffer.from(line.slice(20) + eol)]);
    }
    if (kind) manifest.bad[kind]++;
    else {
      manifest.valid++;
      lastValid = line;
      totals[currency] = (totals[currency] ?? 0n) + BigInt(minor);
    }
    if (raw) {
      await write(batch);
      batch = '';
      await write(raw);
    } else {
      batch += line + eol;
      if (batch.length > 1 << 20) {
        await write(batch);
        batch = '';
      }
    }
  }
  await write(batch);
  out.end();
  await done;
  manifest.acceptedCount = manifest.valid;
  manifest.totalsMinor = Object.fromEntries(Object.entries(totals).sort().map(([k, v]) => [k, v.toString()]));
  return manifest;
}

export const GENERATE_HELP = `usage: generate --count N --out FILE [options]

Writes a deterministic transaction file with a share of planted bad records, and optionally a manifest
of what a correct processor must find (counts per kind, exact per-currency totals of the valid records).

  --count N            number of records (required)
  --out FILE           output file (required)
  --bad-share X        share of bad records, 0..1 (default 0.03; 0 for a clean file)
  --seed N             random seed (default 1)
  --kinds K,...        bad kinds to plant (default all: ${BAD_KINDS.join(',')})
  --format csv|jsonl   output format (default csv)
  --gzip               gzip the output
  --shuffle-header     random column order
  --crlf               CRLF line ends
  --bom                UTF-8 byte-order mark
  --date YYYY-MM-DD    UTC day of the transactions (default ${DEFAULT_DATE})
  --entities E-1,E-2   reporting entity ids to spread records over
  --manifest FILE      write the manifest as JSON
  -h, --help           print this help
`;

function parseArgs(argv: string[]): GenerateOptions & { manifest?: string } {
  const opts: Partial<GenerateOptions> & { manifest?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--count') opts.count = Number(next());
    else if (a === '--out') opts.out = next();
    else if (a === '--seed') opts.seed = Number(next());
    else if (a === '--bad-share') opts.badShare = Number(next());
    else if (a === '--kinds') opts.kinds = next().split(',').filter(Boolean).map((k) => {
      if (!(BAD_KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown kind "${k}" (allowed: ${BAD_KINDS.join(',')})`);
      return k as BadKind;
    });
    else if (a === '--gzip') opts.gzip = true;
    else if (a === '--format') opts.format = next() as 'csv' | 'jsonl';
    else if (a === '--shuffle-header') opts.shuffleHeader = true;
    else if (a === '--crlf') opts.crlf = true;
    else if (a === '--bom') opts.bom = true;
    else if (a === '--manifest') opts.manifest = next();
    else if (a === '--date') opts.date = next();
    else if (a === '--entities') opts.entities = next().split(',').filter(Boolean);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.count) || opts.count! < 0) throw new Error('--count must be a non-negative integer');
  if (!opts.out) throw new Error('--out <file> is required');
  if (opts.date !== undefined && !isCalendarDate(opts.date)) {
    throw new Error(`--date must be a day like 2026-11-20, got "${opts.date}"`);
  }
  if (opts.entities && !opts.entities.every((e) => /^[A-Z0-9-]{2,40}$/.test(e))) throw new Error('--entities must be a comma-separated list of [A-Z0-9-]{2,40}');
  if (opts.badShare !== undefined && !(opts.badShare >= 0 && opts.badShare <= 1)) throw new Error('--bad-share must be between 0 and 1');
  if (opts.format && opts.format !== 'csv' && opts.format !== 'jsonl') throw new Error('--format must be csv or jsonl');
  return opts as GenerateOptions & { manifest?: string };
}

if (require.main === module) {
  (async () => {
    if (process.argv.includes('--help') || process.argv.includes('-h')) {
      process.stdout.write(GENERATE_HELP);
      return;
    }
    const opts = parseArgs(process.argv.slice(2));
    const started = Date.now();
    const manifest = await generate(opts);
    if (opts.manifest) fs.writeFileSync(opts.manifest, JSON.stringify(manifest, null, 2) + '\n');
    process.stderr.write(`wrote ${opts.count} records to ${opts.out} in ${Date.now() - started} ms (${manifest.valid} valid)\n`);
  })().catch((err) => {
    process.stderr.write(`generate: ${(err as Error).message}\n`);
    process.exit(2);
  });
}
