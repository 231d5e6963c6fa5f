/**
 * Parsing of the reporting workflow payloads (contracts.md) with PermanentErrors that name the field:
 * a malformed payload is a wiring bug, retrying it cannot help.
 */
import { isReportJurisdiction, isReportType, ReportJurisdiction, ReportType } from '../../domain/reporting/frameworks';
import { isCalendarDate, isInstant } from '../../domain/dates';
import { containsPan } from '../../domain/pan';
import type { ReportItem } from '../../domain/reporting/report';
import { PermanentError } from './errors';

/** Longest string any payload field may hold (an S3 key is at most 1,024 bytes). */
const MAX_FIELD = 1024;

export interface GenerateResult {
  reportId: string;
  jurisdiction: ReportJurisdiction;
  reportType: ReportType;
  entityId: string;
  reportDate: string;
  bucket: string;
  key: string;
  sha256: string;
  transactionCount: number;
}

export interface ValidationResult {
  reportId: string;
  isValid: boolean;
  errors: string[];
  warnings: string[];
}

export interface DeliveryResult {
  reportId: string;
  messageId: string;
  recipient: string;
  status: 'SENT' | 'ALREADY_SENT';
}

const ENTITY = /^[A-Z0-9-]{2,40}$/;
const REPORT_ID = /^[A-Z0-9-]{1,200}$/;

function obj(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PermanentError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, field: string, what: string, pattern?: RegExp): string {
  const v = o[field];
  if (typeof v !== 'string' || v === '') throw new PermanentError(`${what}.${field} is required (string)`);
  if (v.length > MAX_FIELD || containsPan(v)) throw new PermanentError(`${what}.${field} is too long or holds a card-number-like value`);
  if (pattern && !pattern.test(v)) throw new PermanentError(`${what}.${field} does not match ${pattern}`);
  return v;
}

export function parseItem(value: unknown, what = 'item'): ReportItem {
  const o = obj(value, what);
  const jurisdiction = o.jurisdiction;
  if (!isReportJurisdiction(jurisdiction)) throw new PermanentError(`${what}.jurisdiction must be one of EU, US, UK, APAC`);
  const reportType = o.reportType;
  if (!isReportType(reportType)) throw new PermanentError(`${what}.reportType must be one of TRANSACTION, POSITION, COLLATERAL, MARGIN`);
  const entityId = str(o, 'entityId', what, ENTITY);
  const runStartedAt = str(o, 'runStartedAt', what);
  // Strict (domain/dates.ts): "1", "12/01/2026" or a six-digit year would pass Date.parse and report the wrong day.
  if (!isInstant(runStartedAt)) throw new PermanentError(`${what}.runStartedAt must be an ISO 8601 instant with a zone (Z or ±hh:mm), years 2000-2100`);
  const item: ReportItem = { jurisdiction, reportType, entityId, runStartedAt };
  // null is how the workflow spells "no reportDate" (scheduled run): derive the previous business day.
  if (o.reportDate !== undefined && o.reportDate !== null) {
    if (!isCalendarDate(o.reportDate)) throw new PermanentError(`${what}.reportDate must be a date YYYY-MM-DD`);
    item.reportDate = o.reportDate;
  }
  return item;
}

export function parseGenerateResult(value: unknown, what = 'report'): GenerateResult {
  const o = obj(value, what);
  const jurisdiction = o.jurisdiction;
  if (!isReportJurisdiction(jurisdiction)) throw new PermanentError(`${what}.jurisdiction must be one of EU, US, UK, APAC`);
  const reportType = o.reportType;
  if (!isReportType(reportType)) throw new PermanentError(`${what}.reportType must be a report type`);
  const reportDate = str(o, 'reportDate', what);
  if (!isCalendarDate(reportDate)) throw new PermanentError(`${what}.reportDate must be a date YYYY-MM-DD`);
  if (!Number.isInteger(o.transactionCount) || (o.transactionCount as number) < 0) throw new PermanentError(`${what}.transactionCount must be a non-negative integer`);
  return {
    reportId: str(o, 'reportId', what, REPORT_ID),
    jurisdiction,
    reportType,
    entityId: str(o, 'entityId', what, ENTITY),
    reportDate,
    bucket: str(o, 'bucket', what),
    key: str(o, 'key', what),
    sha256: str(o, 'sha256', what, /^[0-9a-f]{64}$/),
    transactionCount: o.transactionCount as number,
  };
}

export function parseValidation(value: unknown, what = 'validation'): ValidationResult {
  const o = obj(value, what);
  if (typeof o.isValid !== 'boolean') throw new PermanentError(`${what}.isValid must be a boolean`);
  const list = (f: string) => {
    const v = o[f];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new PermanentError(`${what}.${f} must be an array of strings`);
    return v as string[];
  };
  return { reportId: str(o, 'reportId', what, REPORT_ID), isValid: o.isValid, errors: list('errors'), warnings: list('warnings') };
}

export function parseDelivery(value: unknown, what = 'delivery'): DeliveryResult {
  const o = obj(value, what);
  const status = o.status;
  if (status !== 'SENT' && status !== 'ALREADY_SENT') throw new PermanentError(`${what}.status must be SENT or ALREADY_SENT`);
  return {
    reportId: str(o, 'reportId', what, REPORT_ID),
    messageId: str(o, 'messageId', what),
    recipient: str(o, 'recipient', what),
    status,
  };
}

/** UTC now as DATETIME(3) text. */
export function sqlNow(date = new Date()): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
