/**
 * EventBridge schedule expressions: parsed with AWS's rules (6-field cron with `?` in exactly one of
 * day-of-month/day-of-week, or rate(N unit)) and their next firing times computed in UTC. The nightly
 * batch and the reporting deadline check must each fire exactly when the loaded config's schedules say.
 */
import { Finding, Stacks } from './stacks';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export class ScheduleError extends Error {}

type FieldSet = Set<number> | 'any';

function parseField(text: string, min: number, max: number, names: string[] = [], nameBase = min): FieldSet {
  if (text === '*' || text === '?') return 'any';
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^([^/]+?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`bad cron field "${text}"`);
    const [, range, stepText] = m;
    const step = stepText ? Number(stepText) : 1;
    const value = (v: string): number => {
      const idx = names.indexOf(v.toUpperCase());
      const n = idx >= 0 ? idx + nameBase : Number(v);
      if (!/^\d+$/.test(v) && idx < 0) throw new ScheduleError(`unsupported cron value "${v}" in "${text}" (L, W and # are not evaluated here)`);
      if (n < min || n > max) throw new ScheduleError(`cron value ${v} out of range ${min}-${max} in "${text}"`);
      return n;
    };
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(value) as [number, number];
    else [lo, hi] = [value(range), stepText ? max : value(range)];
    if (step < 1 || lo > hi) throw new ScheduleError(`bad range/step "${part}" in "${text}"`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export interface Schedule { next(after: Date, count: number): Date[] }

const has = (set: FieldSet, v: number) => set === 'any' || set.has(v);

export function parseSchedule(expr: string): Schedule {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new ScheduleError(`rate must be positive in "${expr}"`);
    if ((n === 1) !== !rate[2].endsWith('s')) throw new ScheduleError(`use "${n === 1 ? rate[2].replace(/s$/, '') : `${rate[2]}s`}" in "${expr}"`);
    const ms = n * { minute: 60e3, hour: 3600e3, day: 86400e3 }[rate[2].replace(/s$/, '') as 'minute' | 'hour' | 'day'];
    return { next: (after, count) => Array.from({ length: count }, (_, i) => new Date(after.getTime() + ms * (i + 1))) };
  }
  const cron = /^cron\((.+)\)$/.exec(expr);
  if (!cron) throw new ScheduleError(`"${expr}" is neither cron(...) nor rate(...)`);
  const f = cron[1].trim().split(/\s+/);
  if (f.length !== 6) throw new ScheduleError(`cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${f.length} in "${expr}"`);
  if ((f[2] === '?') === (f[4] === '?')) throw new ScheduleError(`exactly one of day-of-month and day-of-week must be "?" in "${expr}"`);
  const minutes = parseField(f[0], 0, 59);
  const hours = parseField(f[1], 0, 23);
  const dom = parseField(f[2], 1, 31);
  const month = parseField(f[3], 1, 12, MONTHS, 1);
  const dow = parseField(f[4], 1, 7, DAYS, 1);
  const year = parseField(f[5], 1970, 2199);
  return {
    next(after, count) {
      const out: Date[] = [];
      const t = new Date(Math.floor(after.getTime() / 60e3) * 60e3 + 60e3);
      const limit = after.getTime() + 5 * 366 * 86400e3;
      while (out.length < count && t.getTime() < limit) {
        if (has(year, t.getUTCFullYear()) && has(month, t.getUTCMonth() + 1) && has(dom, t.getUTCDate())
          && has(dow, t.getUTCDay() + 1) && has(hours, t.getUTCHours()) && has(minutes, t.getUTCMinutes())) {
          out.push(new Date(t));
        }
        t.setTime(t.getTime() + 60e3);
      }
      return out;
    },
  };
}

/** A schedule that must exist in a stack and fire at the same times as the configured expression. */
export interface ExpectedSchedule { label: string; stack: string; expression: string }

/**
 * What must fire, read from the loaded config (never hard-coded): the nightly batch run and the
 * reporting deadline check (run-deadline `{"check": "loaded"}`) in the compute stack at
 * `schedules.nightlyBatch` and `schedules.dailyReporting`. The reporting workflow has no schedule:
 * report-loader starts it once the night is loaded.
 */
export function expectedSchedules(cfg: { schedules: { nightlyBatch: string; dailyReporting: string } }): ExpectedSchedule[] {
  return [
    { label: 'nightly batch run', stack: 'compute', expression: cfg.schedules.nightlyBatch },
    { label: 'reporting deadline check', stack: 'compute', expression: cfg.schedules.dailyReporting },
  ];
}

/** A fixed instant for tests that compare firing times; the CLI passes the current time. */
export const REFERENCE_TIME = new Date('2026-11-23T12:00:00Z');

/** Parses every schedule, lists its next three firings after `from` and checks the configured ones exist. */
export function checkSchedules(stacks: Stacks, expected: ExpectedSchedule[], from: Date): { findings: Finding[]; schedules: number; firings: string[] } {
  const findings: Finding[] = [];
  const firings: string[] = [];
  const found: Record<string, Date[][]> = {};
  let schedules = 0;
  for (const [stack, tf] of Object.entries(stacks)) {
    const items: [string, string, unknown][] = [
      ...Object.entries(tf.resource?.aws_cloudwatch_event_rule ?? {}).map(([n, r]) => [`aws_cloudwatch_event_rule.${n}`, 'UTC', r.schedule_expression] as [string, string, unknown]),
      ...Object.entries(tf.resource?.aws_scheduler_schedule ?? {}).map(([n, r]) => [`aws_scheduler_schedule.${n}`, String(r.schedule_expression_timezone ?? 'UTC'), r.schedule_expression] as [string, string, unknown]),
    ];
    for (const [address, tz, expr] of items) {
      if (typeof expr !== 'string') continue;
      schedules++;
      if (tz !== 'UTC' && tz !== 'Etc/UTC') {
        findings.push({ check: 'schedules', stack, address, message: `timezone ${tz}: the platform's windows are defined in UTC` });
        continue;
      }
      try {
        const next = parseSchedule(expr).next(from, 3);
        firings.push(`${stack}:${address} ${expr} -> ${next.map((d) => d.toISOString()).join(', ')}`);
        (found[stack] ??= []).push(next);
      } catch (e) {
        findings.push({ check: 'schedules', stack, address, message: (e as Error).message });
      }
    }
  }
  for (const want of expected) {
    let wanted: Date[];
    try {
      wanted = parseSchedule(want.expression).next(from, 3);
    } catch (e) {
      findings.push({ check: 'schedules', stack: want.stack, address: 'config', message: `configured ${want.label} schedule: ${(e as Error).message}` });
      continue;
    }
    const ok = (found[want.stack] ?? []).some((next) => next.length === wanted.length && next.every((d, i) => d.getTime() === wanted[i].getTime()));
    if (!ok) {
      findings.push({ check: 'schedules', stack: want.stack, address: 'schedule',
        message: `no schedule fires the ${want.label} as configured (${want.expression}: ${wanted.map((d) => d.toISOString().slice(0, 16)).join(', ')} UTC)` });
    }
  }
  return { findings, schedules, firings };
}
