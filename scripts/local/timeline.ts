/**
 * The night as a picture: `npm run local` writes <work dir>/timeline.svg, a plain SVG drawn here (no
 * dependency). Two panels:
 *  - against the batch window: the night's phases (from the orchestrator's start) on the scale of the
 *    configured window (batch.windowHours) with the reporting deadline (schedules.dailyReporting) marked,
 *    so the operator sees how much of the window the night used;
 *  - detail: every stage of the local run on its own seconds scale, one bar per stage, and under
 *    "process" one bar per processor shard from its own start and stop times.
 * Stages run one after another; they are drawn back to back from their measured durations (the glue
 * between two stages, milliseconds, is not drawn).
 */
import * as fs from 'fs';
import * as path from 'path';
import { cronTimesOfDay, PlatformConfig } from '../../stacks/config';
import type { StageTiming } from './progress';
import type { Outcome } from './summary';

export interface ShardTiming {
  /** Array index of the shard inside its job. */
  index: number;
  jobName: string;
  status: string;
  attempts: { exitCode: number; startedAt: number; stoppedAt: number }[];
}

export interface TimelineInput {
  title: string;
  stages: StageTiming[];
  shards: ShardTiming[];
  windowHours: number;
  /** Hours from the nightly start to the reporting deadline check (schedules.dailyReporting); undefined when not a fixed time. */
  deadlineHours?: number;
}

/** What a stage is in AWS terms: local setup does not happen during a real night. */
export const STAGE_GROUPS: Record<string, { group: string; color: string }> = {
  servers: { group: 'local setup (not part of a real night)', color: '#b8bec9' },
  provision: { group: 'local setup (not part of a real night)', color: '#b8bec9' },
  generate: { group: 'local setup (not part of a real night)', color: '#b8bec9' },
  upload: { group: 'local setup (not part of a real night)', color: '#b8bec9' },
  migrate: { group: 'local setup (not part of a real night)', color: '#b8bec9' }, // schema migration: at deploy in AWS
  orchestrate: { group: 'batch: orchestrator, processor shards, job events', color: '#1f5fbf' },
  process: { group: 'batch: orchestrator, processor shards, job events', color: '#1f5fbf' },
  'job-events': { group: 'batch: orchestrator, processor shards, job events', color: '#1f5fbf' },
  verify: { group: 'verify shard outputs and load the reporting database', color: '#2e8b57' },
  load: { group: 'verify shard outputs and load the reporting database', color: '#2e8b57' },
  deadline: { group: 'reporting deadline check (run-deadline)', color: '#d08700' },
  reporting: { group: 'reporting: generate, validate, deliver (workflow), confirm', color: '#7a4fbf' },
  refusal: { group: 'reporting: generate, validate, deliver (workflow), confirm', color: '#7a4fbf' },
  confirm: { group: 'reporting: generate, validate, deliver (workflow), confirm', color: '#7a4fbf' },
};
const OTHER = { group: 'other', color: '#8a94a6' };
const groupOf = (stage: string) => STAGE_GROUPS[stage] ?? OTHER;
/** The first stage that is part of the night in AWS: the nightly schedule starts the orchestrator. */
const NIGHT_START_STAGE = 'orchestrate';

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n1 = (v: number) => (Math.round(v * 10) / 10).toString();
const secs = (s: number) => (s >= 100 ? `${Math.round(s).toLocaleString('en-US')} s` : `${s.toFixed(s >= 10 ? 1 : 2)} s`);

/** A tick step of 1, 2 or 5 x 10^k giving at most `max` ticks over `span`. */
function tickStep(span: number, max = 8): number {
  const raw = span / max;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

interface Placed { stage: StageTiming; start: number; end: number }

/** Stages back to back from 0, in the order they ran. */
export function placeStages(stages: StageTiming[]): Placed[] {
  let t = 0;
  return stages.map((stage) => {
    const p = { stage, start: t, end: t + stage.seconds };
    t = p.end;
    return p;
  });
}

export function timelineSvg(input: TimelineInput): string {
  const W = 980;
  const LEFT = 190;
  const RIGHT = 130;
  const plotW = W - LEFT - RIGHT;
  const ROW = 18;
  const out: string[] = [];
  let y = 0;
  const text = (x: number, ty: number, s: string, attrs = '') => out.push(`<text x="${n1(x)}" y="${n1(ty)}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`);

  const placed = placeStages(input.stages);
  const total = placed.length ? placed[placed.length - 1].end : 0;
  const nightStart = placed.find((p) => p.stage.stage === NIGHT_START_STAGE)?.start;
  // The night's phases from the orchestrator on; the deadline check is not one of them (in AWS it fires at
  // the dashed line, whatever the night does; locally it is played at the point its night mode needs).
  const night = nightStart === undefined ? [] : placed.filter((p) => p.start >= nightStart && p.stage.stage !== 'deadline'
    && groupOf(p.stage.stage).group !== OTHER.group && !groupOf(p.stage.stage).group.startsWith('local setup'));

  y += 24;
  text(12, y, input.title, 'class="title"');
  y += 16;
  text(12, y, 'Stages are drawn back to back from their measured durations; shards from their own start and stop times.', 'class="note"');

  // ---- panel 1: the night against the batch window ------------------------------------------------
  const windowS = input.windowHours * 3600;
  const spanH = Math.max(input.windowHours, input.deadlineHours ?? 0) * 1.08;
  const spanS = spanH * 3600;
  const xw = (s: number) => LEFT + (s / spanS) * plotW;
  y += 30;
  text(12, y, `Against the ${input.windowHours}-hour batch window (hours from the nightly start)`, 'class="heading"');
  y += 12;
  const p1Top = y;
  const p1H = (night.length + 1) * ROW + 8;
  out.push(`<rect class="window" x="${n1(xw(0))}" y="${n1(p1Top)}" width="${n1(xw(windowS) - xw(0))}" height="${n1(p1H)}"/>`);
  text(xw(windowS) - 4, p1Top + 12, `window ends ${input.windowHours} h`, 'class="small" text-anchor="end"');
  if (input.deadlineHours !== undefined) {
    const xd = xw(input.deadlineHours * 3600);
    out.push(`<line class="deadline" x1="${n1(xd)}" y1="${n1(p1Top - 4)}" x2="${n1(xd)}" y2="${n1(p1Top + p1H)}"/>`);
    text(xd + 4, p1Top + 12, `reporting deadline ${n1(input.deadlineHours)} h`, 'class="small deadline-label"');
  }
  y = p1Top + ROW;
  const nightEnd = night.length ? night[night.length - 1].end : nightStart ?? 0;
  for (const p of night) {
    const x = xw(p.start - nightStart!);
    const w = Math.max(2, xw(p.end - nightStart!) - x);
    y += ROW;
    text(LEFT - 8, y - 5, p.stage.stage, 'class="label" text-anchor="end"');
    out.push(`<rect class="phase window-phase" data-stage="${esc(p.stage.stage)}" x="${n1(x)}" y="${n1(y - ROW + 4)}" width="${n1(w)}" height="${ROW - 7}" fill="${groupOf(p.stage.stage).color}"/>`);
    text(x + w + 6, y - 5, `${secs(p.stage.seconds)}`, 'class="small"');
  }
  y = p1Top + p1H + 14;
  for (let h = 0; h <= spanH + 1e-9; h += tickStep(spanH, 10)) text(xw(h * 3600), y, `${n1(h)} h`, 'class="small" text-anchor="middle"');
  y += 18;
  const used = nightStart === undefined ? 0 : nightEnd - nightStart;
  text(LEFT, y, nightStart === undefined
    ? 'No nightly run in this night (missing): nothing ran in the window.'
    : `The night (orchestrate to ${night[night.length - 1]?.stage.stage ?? '-'}) took ${secs(used)}: ${((used / windowS) * 100).toFixed(3)} % of the ${input.windowHours}-hour window.`, 'class="note"');

  // ---- panel 2: every stage on its own scale ------------------------------------------------------
  y += 34;
  text(12, y, 'Detail: every stage of the local run (seconds from its start)', 'class="heading"');
  y += 8;
  const spanD = Math.max(total, 0.001);
  const xd = (s: number) => LEFT + (s / spanD) * plotW;
  const p2Top = y;
  const gridAt = out.length; // grid lines go under the bars: inserted here once the panel's height is known
  const process = placed.find((p) => p.stage.stage === 'process');
  const shardStarts = input.shards.flatMap((s) => s.attempts.map((a) => a.startedAt));
  const shardZero = shardStarts.length ? Math.min(...shardStarts) : 0;
  for (const p of placed) {
    y += ROW;
    const x = xd(p.start);
    const w = Math.max(1.5, xd(p.end) - x);
    text(LEFT - 8, y - 5, p.stage.stage, 'class="label" text-anchor="end"');
    out.push(`<rect class="phase" data-stage="${esc(p.stage.stage)}" x="${n1(x)}" y="${n1(y - ROW + 4)}" width="${n1(w)}" height="${ROW - 7}" fill="${groupOf(p.stage.stage).color}"${p.stage.ok ? '' : ' stroke="#c0392b" stroke-width="2"'}/>`);
    text(Math.min(x + w + 6, W - RIGHT + 6), y - 5, `${secs(p.stage.seconds)}${p.stage.ok ? '' : ' FAILED'}`, 'class="small"');
    if (p === process) {
      for (const shard of [...input.shards].sort((a, b) => a.index - b.index)) {
        for (const [i, a] of shard.attempts.entries()) {
          y += ROW - 4;
          const sx = xd(process.start + (a.startedAt - shardZero) / 1000);
          const sw = Math.max(1.5, xd(process.start + (a.stoppedAt - shardZero) / 1000) - sx);
          const failed = a.exitCode !== 0;
          text(LEFT - 8, y - 4, `shard ${shard.index}${shard.attempts.length > 1 ? ` try ${i + 1}` : ''}`, 'class="small" text-anchor="end"');
          out.push(`<rect class="shard" data-shard="${shard.index}" x="${n1(sx)}" y="${n1(y - ROW + 8)}" width="${n1(sw)}" height="${ROW - 10}" fill="${failed ? '#c0392b' : '#6f9be0'}"/>`);
          text(Math.min(sx + sw + 6, W - RIGHT + 6), y - 4, `${secs((a.stoppedAt - a.startedAt) / 1000)}${failed ? ` exit ${a.exitCode}` : ''}`, 'class="small"');
        }
      }
    }
  }
  const p2Bottom = y + 6;
  out.push(`<line class="axis" x1="${LEFT}" y1="${n1(p2Bottom)}" x2="${LEFT + plotW}" y2="${n1(p2Bottom)}"/>`);
  y = p2Bottom + 14;
  const step = tickStep(spanD);
  const grid: string[] = [];
  for (let s = 0; s <= spanD + 1e-9; s += step) {
    grid.push(`<line class="grid" x1="${n1(xd(s))}" y1="${n1(p2Top + 4)}" x2="${n1(xd(s))}" y2="${n1(p2Bottom)}"/>`);
    text(xd(s), y, `${n1(s)} s`, 'class="small" text-anchor="middle"');
  }
  out.splice(gridAt, 0, ...grid);

  // ---- legend -----------------------------------------------------------------------------------
  y += 26;
  const groups = [...new Map(placed.map((p) => [groupOf(p.stage.stage).group, groupOf(p.stage.stage).color])).entries()];
  if (input.shards.length) groups.push(['processor shard (one bar per attempt; red: failed)', '#6f9be0']);
  for (const [group, color] of groups) {
    out.push(`<rect class="key" x="${LEFT}" y="${n1(y - 10)}" width="14" height="10" fill="${color}"/>`);
    text(LEFT + 20, y, group, 'class="small"');
    y += 16;
  }
  out.push(`<rect class="key window" x="${LEFT}" y="${n1(y - 10)}" width="14" height="10"/>`);
  text(LEFT + 20, y, `the ${input.windowHours}-hour batch window (batch.windowHours); the dashed line is the reporting deadline (schedules.dailyReporting),`, 'class="small"');
  y += 14;
  text(LEFT + 20, y, 'where run-deadline checks that the night is loaded (the local run plays that check where its --night mode needs it)', 'class="small"');
  y += 20;

  const H = Math.ceil(y);
  const style = [
    'text{font-family:Helvetica,Arial,sans-serif;fill:#1d2433}',
    '.title{font-size:15px;font-weight:bold}', '.heading{font-size:13px;font-weight:bold}',
    '.label{font-size:11px}', '.small{font-size:10px;fill:#4a5263}', '.note{font-size:11px;fill:#4a5263}',
    '.window{fill:#eaf2fd;stroke:#9db7e0}', '.deadline{stroke:#d08700;stroke-width:1.5;stroke-dasharray:5 3}', '.deadline-label{fill:#a86d00}',
    '.axis{stroke:#8a94a6}', '.grid{stroke:#e3e6ec}',
  ].join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<style>${style}</style>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes <workDir>/timeline.svg (whole file or nothing: written aside, then renamed) and returns its path. */
export function writeTimeline(workDir: string, input: TimelineInput): string {
  const file = path.join(workDir, 'timeline.svg');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, timelineSvg(input));
  fs.renameSync(tmp, file);
  return file;
}

/** Hours from the nightly start to the reporting deadline, when both are fixed times of day. */
export function deadlineHoursOf(schedules: PlatformConfig['schedules']): number | undefined {
  const start = cronTimesOfDay(schedules.nightlyBatch)?.[0];
  const deadline = cronTimesOfDay(schedules.dailyReporting)?.[0];
  if (start === undefined || deadline === undefined) return undefined;
  return (((deadline - start) + 1440) % 1440) / 60;
}

/** The timeline of a finished local run. */
export function timelineInput(o: Outcome, cfg: Pick<PlatformConfig, 'schedules' | 'batch' | 'project' | 'environment'>,
  args: { runId: string; night: string; count: number; shards: number }): TimelineInput {
  return {
    title: `Local night ${args.runId} (${args.night}): ${args.night === 'missing' ? 'no run' : `${args.count.toLocaleString('en-US')} records`}, `
      + `${o.shards.length} shard(s), ${cfg.project}-${cfg.environment}`,
    stages: o.stages,
    shards: o.shards,
    windowHours: cfg.batch.windowHours,
    deadlineHours: deadlineHoursOf(cfg.schedules),
  };
}
