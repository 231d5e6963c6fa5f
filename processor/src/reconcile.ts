/**
 * The invariant checked before a shard may publish: every record read is accounted for exactly once,
 * and the control totals (by currency, by jurisdiction, by account) each equal the independently kept
 * sum of the amounts written to accepted output.
 */
import { CURRENCY_CODES, formatMinor } from '../../domain/money';
import type { RecordProcessor } from './record-processor';

export interface ReconciliationReport {
  ok: boolean;
  /** read === accepted + rejected + duplicates */
  countsBalance: boolean;
  /** per-currency sums of accepted output, as exact decimals */
  acceptedSums: Record<string, string>;
  failures: string[];
}

export function reconcile(p: RecordProcessor): ReconciliationReport {
  const failures: string[] = [];
  const countsBalance = p.read === p.accepted + p.rejected + p.duplicates;
  if (!countsBalance) failures.push(`read ${p.read} != accepted ${p.accepted} + rejected ${p.rejected} + duplicates ${p.duplicates}`);
  const groups = p.totals.groupSums();
  const acceptedSums: Record<string, string> = {};
  let acceptedCount = 0;
  CURRENCY_CODES.forEach((code, c) => {
    const expected = p.acceptedSums[c];
    acceptedCount += expected.count;
    if (expected.count > 0) acceptedSums[code] = formatMinor(expected.total, code);
    for (const [name, sums] of Object.entries(groups)) {
      const [count, total] = sums[c];
      if (count !== expected.count || total !== expected.total) {
        failures.push(`${code} totals by ${name} (${count} records, ${formatMinor(total, code)}) != accepted (${expected.count} records, ${formatMinor(expected.total, code)})`);
      }
    }
  });
  if (acceptedCount !== p.accepted) failures.push(`accepted sums cover ${acceptedCount} records, accepted count is ${p.accepted}`);
  return { ok: failures.length === 0, countsBalance, acceptedSums, failures };
}
