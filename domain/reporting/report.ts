/**
 * Report identity, dates and content. Pure functions: the generate handler feeds them database rows.
 * Everything that goes into a report is deterministic for a given (item, run, data), so a re-run
 * produces byte-identical JSON and the same SHA-256.
 */
import { CURRENCIES, Currency, formatMinor, isCurrency } from '../money';
import { FRAMEWORKS, ReportJurisdiction, ReportType, US_LARGE_TRADE_THRESHOLD } from './frameworks';

export interface ReportItem {
  jurisdiction: ReportJurisdiction;
  reportType: ReportType;
  entityId: string;
  /** ISO timestamp of the workflow execution start. */
  runStartedAt: string;
  /** YYYY-MM-DD; overrides the derived previous business day. */
  reportDate?: string;
}

export interface ReportTransaction {
  transactionId: string;
  amount: string;
  currency: string;
  timestamp: string;
  counterparty: string | null;
  largeTradeFlag?: boolean;
}

export interface Report {
  reportId: string;
  framework: string;
  frameworkVersion: string;
  jurisdiction: ReportJurisdiction;
  reportType: ReportType;
  entityId: string;
  reportDate: string;
  /** The run's start time: deterministic per run (a wall-clock time would change the content on every retry). */
  generatedAt: string;
  periodStart: string;
  periodEnd: string;
  totalTransactions: number;
  totalsByCurrency: Record<string, string>;
  largeTradeCount?: number;
  transactions: ReportTransaction[];
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

export function isReportDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/**
 * Previous business day (UTC) of `runStartedAt`: Monday -> Friday, Sunday/Saturday -> Friday.
 * Public holidays are not modelled (one calendar for four jurisdictions would be wrong for three);
 * pass `reportDate` explicitly to re-run a specific day.
 */
export function previousBusinessDay(runStartedAt: string): string {
  const t = new Date(runStartedAt);
  if (Number.isNaN(t.getTime())) throw new Error(`runStartedAt must be an ISO timestamp, got "${runStartedAt}"`);
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  do {
    d.setUTCDate(d.getUTCDate() - 1);
  } while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return d.toISOString().slice(0, 10);
}

export function reportDateOf(item: Pick<ReportItem, 'runStartedAt' | 'reportDate'>): string {
  return item.reportDate ?? previousBusinessDay(item.runStartedAt);
}

export function reportIdOf(jurisdiction: string, reportType: string, entityId: string, reportDate: string): string {
  return `${jurisdiction}-${reportType}-${entityId}-${reportDate}`;
}

export function reportKeyOf(jurisdiction: string, reportDate: string, reportId: string): string {
  return `reports/${jurisdiction}/${reportDate}/${reportId}.json`;
}

/** [reportDate 00:00, +1 day) in UTC, as DATETIME literals for an indexed range query. */
export function reportPeriod(reportDate: string): { start: string; end: string } {
  const start = new Date(`${reportDate}T00:00:00.000Z`);
  const end = new Date(start.getTime() + 86_400_000);
  const fmt = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  return { start: fmt(start), end: fmt(end) };
}

/** Minor units of a decimal string of `currency` (exact; the string comes from our own DB/report). */
export function toMinor(amount: string, currency: Currency): bigint {
  const digits = CURRENCIES[currency].minorDigits;
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(amount);
  if (!m) throw new Error(`amount "${amount}" is not a decimal string`);
  const frac = (m[3] ?? '').padEnd(digits, '0');
  if (frac.length > digits && /[1-9]/.test(frac.slice(digits))) throw new Error(`amount "${amount}" has more than ${digits} decimals`);
  const minor = BigInt(m[2] + frac.slice(0, digits));
  return m[1] ? -minor : minor;
}

export function isLargeTrade(amount: string, currency: string): boolean {
  if (!isCurrency(currency)) return false;
  return toMinor(amount, currency) > toMinor(US_LARGE_TRADE_THRESHOLD, currency);
}

export interface TransactionRow {
  transactionId: string;
  amountMinor: string;
  currency: string;
  /** UTC DATETIME(3) text, "YYYY-MM-DD HH:MM:SS.mmm". */
  timestamp: string;
  counterparty: string | null;
}

export function buildReport(item: ReportItem, rows: TransactionRow[]): Report {
  const reportDate = reportDateOf(item);
  const reportId = reportIdOf(item.jurisdiction, item.reportType, item.entityId, reportDate);
  const framework = FRAMEWORKS[item.jurisdiction];
  const totals = new Map<Currency, bigint>();
  let largeTrades = 0;
  const transactions = rows.map((r): ReportTransaction => {
    if (!isCurrency(r.currency)) throw new Error(`transaction ${r.transactionId}: unsupported currency in the database`);
    const minor = BigInt(r.amountMinor);
    totals.set(r.currency, (totals.get(r.currency) ?? 0n) + minor);
    const amount = formatMinor(minor, r.currency);
    const tx: ReportTransaction = {
      transactionId: r.transactionId,
      amount,
      currency: r.currency,
      timestamp: `${r.timestamp.replace(' ', 'T')}Z`,
      counterparty: r.counterparty,
    };
    // Flagged at generation (the document's validator warned about a flag nothing ever set).
    if (item.jurisdiction === 'US') {
      tx.largeTradeFlag = isLargeTrade(amount, r.currency);
      if (tx.largeTradeFlag) largeTrades++;
    }
    return tx;
  });
  const period = reportPeriod(reportDate);
  const report: Report = {
    reportId,
    framework: framework.name,
    frameworkVersion: framework.version,
    jurisdiction: item.jurisdiction,
    reportType: item.reportType,
    entityId: item.entityId,
    reportDate,
    generatedAt: new Date(item.runStartedAt).toISOString(),
    periodStart: `${period.start.replace(' ', 'T')}Z`,
    periodEnd: `${period.end.replace(' ', 'T')}Z`,
    totalTransactions: transactions.length,
    totalsByCurrency: Object.fromEntries([...totals.entries()].sort(([a], [b]) => a.localeCompare(b))
      .map(([c, minor]) => [c, formatMinor(minor, c)])),
    transactions,
  };
  if (item.jurisdiction === 'US') report.largeTradeCount = largeTrades;
  return report;
}
