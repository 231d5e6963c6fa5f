/**
 * Report validation: every rule of document 003 plus the APAC design (frameworks.ts), split into
 * errors (the report must not be delivered) and warnings (delivered, and recorded).
 *
 * Zero transactions: VALID with the warning NO_TRANSACTIONS. A nil return is itself a regulatory
 * submission (the regimes expect a report for every reporting day even when nothing happened), and
 * refusing it would turn every quiet day into a failed run.
 */
import { isCurrency } from '../money';
import {
  APAC_MAX_TRANSACTIONS_BEFORE_WARNING, FRAMEWORKS, isReportJurisdiction, UK_MAX_TRANSACTIONS_BEFORE_WARNING,
} from './frameworks';
import { isLargeTrade, reportPeriod, toMinor } from './report';

export interface ReportValidation {
  isValid: boolean;
  errors: string[];
  warnings: string[];
}

/** Codes are stable strings ("CODE: detail"); details name the transaction, never amounts or parties. */
export function validateReport(report: unknown): ReportValidation {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (report === null || typeof report !== 'object' || Array.isArray(report)) {
    return { isValid: false, errors: ['REPORT_NOT_OBJECT: report must be a JSON object'], warnings };
  }
  const r = report as Record<string, unknown>;
  if (typeof r.reportId !== 'string' || r.reportId === '') errors.push('MISSING_REPORT_ID: reportId is required');
  if (!isReportJurisdiction(r.jurisdiction)) errors.push('MISSING_JURISDICTION: jurisdiction must be one of EU, US, UK, APAC');
  if (!Array.isArray(r.transactions)) {
    errors.push('MISSING_TRANSACTIONS: transactions must be an array');
    return { isValid: false, errors, warnings };
  }
  const txs = r.transactions as Array<Record<string, unknown>>;
  if (r.totalTransactions !== txs.length) errors.push(`COUNT_MISMATCH: totalTransactions ${String(r.totalTransactions)} != ${txs.length} listed`);
  if (txs.length === 0) warnings.push('NO_TRANSACTIONS: nil report (no transactions on the report date)');

  const jurisdiction = isReportJurisdiction(r.jurisdiction) ? r.jurisdiction : undefined;
  if (jurisdiction) {
    const fw = FRAMEWORKS[jurisdiction];
    if (r.framework !== fw.name) errors.push(`FRAMEWORK_MISMATCH: ${jurisdiction} reports must use ${fw.name}`);
    if (r.frameworkVersion !== fw.version) errors.push(`FRAMEWORK_VERSION_MISMATCH: ${jurisdiction} reports must use ${fw.name} ${fw.version}`);
  }
  const period = typeof r.reportDate === 'string' && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(r.reportDate) ? reportPeriod(r.reportDate) : undefined;
  if (!period) errors.push('MISSING_REPORT_DATE: reportDate must be YYYY-MM-DD');
  const seen = new Set<string>();

  txs.forEach((tx, i) => {
    const ref = typeof tx?.transactionId === 'string' && tx.transactionId ? tx.transactionId : `#${i}`;
    if (tx === null || typeof tx !== 'object') {
      errors.push(`TRANSACTION_NOT_OBJECT: ${ref}`);
      return;
    }
    for (const field of ['transactionId', 'amount', 'currency', 'timestamp'] as const) {
      if (tx[field] === undefined || tx[field] === null || tx[field] === '') errors.push(`MISSING_FIELD: ${ref} has no ${field}`);
    }
    if (typeof tx.transactionId === 'string') {
      if (seen.has(tx.transactionId)) errors.push(`DUPLICATE_TRANSACTION: ${ref}`);
      seen.add(tx.transactionId);
    }
    let amountOk = false;
    if (typeof tx.amount === 'string' && typeof tx.currency === 'string' && isCurrency(tx.currency)) {
      try {
        const minor = toMinor(tx.amount, tx.currency);
        if (minor <= 0n) errors.push(`AMOUNT_NOT_POSITIVE: ${ref}`);
        else amountOk = true;
      } catch {
        errors.push(`AMOUNT_INVALID: ${ref} amount is not an exact decimal of its currency`);
      }
    } else if (tx.amount !== undefined && tx.amount !== null) {
      errors.push(`AMOUNT_INVALID: ${ref} amount must be a decimal string with a supported currency`);
    }
    if (typeof tx.timestamp === 'string' && period) {
      const t = Date.parse(tx.timestamp);
      const start = Date.parse(`${period.start.replace(' ', 'T')}Z`);
      const end = Date.parse(`${period.end.replace(' ', 'T')}Z`);
      if (Number.isNaN(t)) errors.push(`TIMESTAMP_INVALID: ${ref}`);
      else if (t < start || t >= end) errors.push(`OUTSIDE_REPORT_DATE: ${ref}`);
    }
    const hasCounterparty = typeof tx.counterparty === 'string' && tx.counterparty.trim() !== '';
    if (jurisdiction === 'EU' && !hasCounterparty) errors.push(`MISSING_COUNTERPARTY: ${ref} (MiFID II requires a counterparty)`);
    if (jurisdiction === 'APAC' && !hasCounterparty) errors.push(`MISSING_COUNTERPARTY: ${ref} (APAC Harmonised requires a counterparty)`);
    if (jurisdiction === 'APAC' && tx.currency === 'JPY' && typeof tx.amount === 'string' && tx.amount.includes('.')) {
      errors.push(`JPY_FRACTION: ${ref} JPY amounts must be whole yen`);
    }
    if (jurisdiction === 'US' && amountOk && isLargeTrade(tx.amount as string, tx.currency as string) && tx.largeTradeFlag !== true) {
      warnings.push(`LARGE_TRADE_NOT_FLAGGED: ${ref} exceeds 1,000,000 without largeTradeFlag`);
    }
  });
  if (jurisdiction === 'UK' && txs.length > UK_MAX_TRANSACTIONS_BEFORE_WARNING) {
    warnings.push(`HIGH_VOLUME: ${txs.length} transactions (> ${UK_MAX_TRANSACTIONS_BEFORE_WARNING})`);
  }
  if (jurisdiction === 'APAC' && txs.length > APAC_MAX_TRANSACTIONS_BEFORE_WARNING) {
    warnings.push(`HIGH_VOLUME: ${txs.length} transactions (> ${APAC_MAX_TRANSACTIONS_BEFORE_WARNING})`);
  }
  return { isValid: errors.length === 0, errors, warnings };
}
