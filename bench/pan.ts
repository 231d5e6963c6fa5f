/**
 * Card-number detector cost per field (prints figures, asserts nothing): `npm run bench -- pan`.
 * Clean fields are what the processor sees on almost every record; look-alikes (long digit runs that
 * are not card numbers) take the full path: windows, IIN and Luhn checks, exemptions.
 */
import { containsPanRange } from '../domain/pan';

const CLEAN = [
  'TX0000000001', 'ACC-000123', 'BANK-EU-01', '12345.67', 'USD', '2026-11-20T10:00:00Z', '2026-11-20T10:00:00+01:00',
  'Wayne Enterprises, Inc.', 'Müller & Söhne KG', 'US', 'TRANSACTION', '1234', 'LEI-5493001KJTIIGC8Y1R12',
];
const LOOK_ALIKES = [
  '4111 1111 1111 1112', '2026-11-20 10:00:00+01:00', '+49 30 123456789', 'DE89 3704 0044 0532 0130 00',
  '1234567890123.45', '4,111,111,111,111.11', '123e4567-e89b-42d3-a456-426614174000', 'INV 2026-11-20 000123',
  '20261120100000', '12345678901234567890',
];
const CARDS = ['4111111111111111', '4111 1111 1111 1111', 'inv 2026 4111 1111 1111 1111', '378282246310005'];

function nsPerField(fields: string[], rounds: number): { ns: number; hits: number } {
  let hits = 0;
  for (let w = 0; w < 3; w++) for (const f of fields) if (containsPanRange(f, 0, f.length)) hits++; // warm-up
  hits = 0;
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) for (const f of fields) if (containsPanRange(f, 0, f.length)) hits++;
  return { ns: Number(process.hrtime.bigint() - started) / (rounds * fields.length), hits: hits / rounds };
}

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 400_000;
for (const [name, fields] of [['clean fields', CLEAN], ['look-alikes', LOOK_ALIKES], ['card numbers', CARDS]] as const) {
  const best = Array.from({ length: 3 }, () => nsPerField([...fields], rounds)).sort((a, b) => a.ns - b.ns)[0];
  console.log(`${name.padEnd(14)} ${best.ns.toFixed(1).padStart(7)} ns/field  (${fields.length} fields x ${rounds.toLocaleString('en-US')} rounds, best of 3; flagged ${best.hits} of ${fields.length})`);
}
