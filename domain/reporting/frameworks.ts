/**
 * Regulatory frameworks per jurisdiction (document 003) and the team's APAC design.
 *
 * APAC "APAC Harmonised" 1.0 (our design; the documents give APAC no rules): a common denominator of
 * the region's trade-reporting regimes (ASIC, MAS, HKMA, JFSA):
 * - every transaction needs a counterparty (error: all four regimes identify both sides);
 * - JPY amounts must be whole yen (error; the domain already rejects fractional yen, the rule guards
 *   reports built from other sources);
 * - more than 5,000 transactions in one report -> warning (regulators' portals split larger files).
 */
export const REPORT_JURISDICTIONS = ['EU', 'US', 'UK', 'APAC'] as const;
export type ReportJurisdiction = (typeof REPORT_JURISDICTIONS)[number];
export const REPORT_TYPES = ['TRANSACTION', 'POSITION', 'COLLATERAL', 'MARGIN'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export interface Framework {
  name: string;
  version: string;
}

export const FRAMEWORKS: Record<ReportJurisdiction, Framework> = {
  EU: { name: 'MiFID II', version: '2.0' },
  US: { name: 'CAT', version: '1.3' },
  UK: { name: 'UK EMIR', version: '1.1' },
  APAC: { name: 'APAC Harmonised', version: '1.0' },
};

/** US large-trade threshold in major units (exclusive), from document 003; compared exactly in minor units. */
export const US_LARGE_TRADE_THRESHOLD = '1000000';
export const UK_MAX_TRANSACTIONS_BEFORE_WARNING = 1000;
export const APAC_MAX_TRANSACTIONS_BEFORE_WARNING = 5000;

export function isReportJurisdiction(v: unknown): v is ReportJurisdiction {
  return typeof v === 'string' && (REPORT_JURISDICTIONS as readonly string[]).includes(v);
}

export function isReportType(v: unknown): v is ReportType {
  return typeof v === 'string' && (REPORT_TYPES as readonly string[]).includes(v);
}
