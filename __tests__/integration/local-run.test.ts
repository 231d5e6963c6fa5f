/**
 * End to end: `npm run local` in small (20,000 transactions, 2 shards, a reduced reporting set), as an
 * operator runs it, checked against the generator's own manifest (regenerated here with the same
 * seed) and against what the platform recorded: report objects in S3, report_log rows, emails in
 * moto's SES. Reporting starts only from the loader (its StartExecution in moto); `--night late` and
 * `--night missing` show the reporting-time check alerting, reporting starting later from the load,
 * and report-generate refusing a date no loaded run feeds. Also: no server or shard process outlives
 * the run, on success and on Ctrl-C.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generate } from '../../scripts/generate-transactions';
import type { RunReport } from '../../scripts/local/run';
import { reportDateOfRun } from '../../domain/reporting/run-dates';
import { normalizeRecipients } from '../../domain/reporting/recipients';
import { loadConfig } from '../../stacks/config';

const ROOT = path.resolve(__dirname, '..', '..');
jest.setTimeout(180_000);

function processes(): { pid: number; ppid: number; args: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
    return { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] };
  });
}

function serverProcesses(motoPort?: number, dbPort?: number): string[] {
  return processes().filter((p) => (motoPort && /moto_server/.test(p.args) && p.args.includes(`-p ${motoPort}`))
    || (dbPort && /mariadbd/.test(p.args) && p.args.includes(`--port=${dbPort}`))).map((p) => p.args);
}

/** Processor shard processes talking to this run's moto (their environment names its endpoint). */
function shardsOf(motoPort: number): number[] {
  return processes().filter((p) => p.args.includes('processor/src/main.ts')).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0').includes(`AWS_ENDPOINT_URL=http://127.0.0.1:${motoPort}`);
    } catch {
      return false; // already gone
    }
  }).map((p) => p.pid);
}

function startRun(args: string[], configFile?: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'local-run.ts'), ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLATFORM_ENV: 'dev', ...(configFile ? { PLATFORM_CONFIG: configFile } : {}) },
  });
  let out = '';
  child.stdout!.on('data', (b) => { out += b.toString(); });
  child.stderr!.on('data', (b) => { out += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run local (small)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-run-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the nightly chain and the reporting workflow end to end, reconciled, and leaves no server behind', async () => {
    const summaryFile = path.join(dir, 'summary.json');
    const reporting = { jurisdictions: ['EU', 'US'], reportTypes: ['TRANSACTION', 'MARGIN'], entities: ['ENTITY-001', 'ENTITY-002'] };
    // The dev config with a second EU recipient: a jurisdiction may have several, each gets its own message.
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'dev.json'), 'utf8'));
    raw.reporting.recipients.EU = [...raw.reporting.recipients.EU, { email: 'esma-second-desk@example.eu', mode: 'attachment' }];
    const configFile = path.join(dir, 'dev-two-eu-recipients.json');
    fs.writeFileSync(configFile, JSON.stringify(raw));
    const run = startRun([
      '--count', '20000', '--shards', '2', '--bad-share', '0.03', '--seed', '7', '--cross-shard-duplicates', '50',
      '--summary-json', summaryFile, '--work-dir', path.join(dir, 'run'),
      '--jurisdictions', reporting.jurisdictions.join(','), '--report-types', reporting.reportTypes.join(','), '--entities', reporting.entities.join(','),
    ], configFile);
    const code = await run.exited;
    const report = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as RunReport;
    if (report.error) throw new Error(`local run failed: ${report.error}\n${run.output()}`);

    // What a correct processor must find, from the generator itself (same seed, count and share).
    const manifest = await generate({ count: 20000, out: path.join(dir, 'expected.csv'), badShare: 0.03, seed: 7 });
    // Plus 50 valid records (seed + 1) first and again last in the file: the repeats are in the other shard.
    const extra = await generate({ count: 50, out: path.join(dir, 'extra.csv'), badShare: 0, seed: 8 });
    const bad = Object.values(manifest.bad).reduce((s, v) => s + v, 0);
    const o = report.outcome!;
    expect(o.records).toEqual({ read: 20100, accepted: manifest.valid + 50, rejected: bad - manifest.bad.duplicate, duplicates: manifest.bad.duplicate + 50 });
    expect(o.crossShardDuplicates).toBe(50);
    const totals = Object.fromEntries([...new Set([...Object.keys(manifest.totalsMinor), ...Object.keys(extra.totalsMinor)])].sort()
      .map((c) => [c, (BigInt(manifest.totalsMinor[c] ?? '0') + BigInt(extra.totalsMinor[c] ?? '0')).toString()]));
    expect(Object.fromEntries(Object.entries(o.totals.byCurrency).map(([c, t]) => [c, t.actual]))).toEqual(totals);
    expect(o.reconciliationOk).toBe(true);
    expect(o.loadedRows).toBe(manifest.valid + 50);
    expect(o.jobs.total).toBeGreaterThan(0);
    expect(o.jobs.statuses).toEqual({ SUCCEEDED: o.jobs.total });

    const planned = reporting.jurisdictions.length * reporting.reportTypes.length * reporting.entities.length;
    expect(o.reports.planned).toBe(planned);
    expect(o.reports.objects).toBe(planned);
    expect(o.reports.generated).toBe(planned);
    expect(o.reports.byStatus).toEqual({ CONFIRMED: planned });
    // The generator dates the night on the report date and uses the configured entities: reports carry data.
    expect(o.reports.transactions).toBeGreaterThan(0);
    expect(o.reports.transactions).toBeLessThanOrEqual(o.loadedRows);
    // One message per (report x recipient of its jurisdiction), as configured (a jurisdiction without a
    // list goes to the default recipient); counted from what moto's SES captured.
    const recipients = normalizeRecipients(loadConfig({ env: { PLATFORM_CONFIG: configFile } }).reporting.recipients);
    const perReport = (j: string) => recipients[j as keyof typeof recipients]?.length ?? 1;
    const deliveries = reporting.jurisdictions.reduce((n, j) => n + perReport(j) * reporting.reportTypes.length * reporting.entities.length, 0);
    expect(recipients.EU).toHaveLength(2);
    expect(deliveries).toBe(planned + reporting.reportTypes.length * reporting.entities.length);
    expect(o.emails).toEqual({ deliveries, messages: deliveries });
    expect(o.workflow).toEqual(expect.objectContaining({ total: planned, succeeded: planned, failed: 0 }));
    expect(o.metrics.NightlyRunCompleted).toBeGreaterThanOrEqual(1);
    // Reporting was started by the loader's StartExecution for the run's report date, and the
    // reporting-time check after the load was quiet.
    const runId = (o.night.executionInput as { runId: string }).runId; // the default run id: the day the run started (UTC)
    const reportDate = reportDateOfRun(runId);
    expect(reportDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(o.night).toEqual(expect.objectContaining({
      mode: 'on-time', reportDate, deadlineLoaded: true, deadlineAlerted: false, reportingStarted: true,
      executionName: `report-${reportDate}-run-${runId}`, executionInput: { reportDate, runId },
    }));
    expect(o.metrics.ReportingInputMissing).toBe(0);
    expect(o.coverage.reportDates).toEqual([reportDate]);
    expect(run.output()).toMatch(/Time per stage \(against the 4-hour window/);
    expect(fs.existsSync(report.logFile)).toBe(true);
    expect(code).toBe(0);

    expect(serverProcesses(report.servers.motoPort, report.servers.dbPort)).toEqual([]);
    expect(shardsOf(report.servers.motoPort!)).toEqual([]);
  });

  it.each([
    ['late', { deadlineLoaded: false, deadlineAlerted: true, deadlineRunOutcome: 'LATE', deadlineWhen: 'before-load', reportingStarted: true }],
    ['missing', { deadlineLoaded: false, deadlineAlerted: true, deadlineRunOutcome: 'MISSING', deadlineWhen: 'no-run', reportingStarted: false }],
  ])('--night %s: the reporting-time check alerts; reporting starts only from a load', async (night, expected) => {
    const summaryFile = path.join(dir, `summary-${night}.json`);
    const run = startRun([
      '--night', night, '--count', '2000', '--shards', '2', '--summary-json', summaryFile, '--work-dir', path.join(dir, night),
      '--jurisdictions', 'EU', '--report-types', 'TRANSACTION', '--entities', 'ENTITY-001',
    ]);
    const code = await run.exited;
    const report = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as RunReport;
    if (report.error) throw new Error(`local run failed: ${report.error}\n${run.output()}`);
    const o = report.outcome!;
    expect(o.night).toEqual(expect.objectContaining({ mode: night, ...expected }));
    expect(o.metrics.ReportingInputMissing).toBe(1);
    if (night === 'late') {
      expect(o.reports.byStatus).toEqual({ CONFIRMED: 1 });
      expect(o.loadedRows).toBe(o.records.accepted);
    } else {
      expect(o.night.generateRefusal).toMatch(/^PermanentError: RUN_NOT_LOADED/);
      expect(o.loadedRows).toBe(0);
      expect(o.reports.generated).toBe(0);
      expect(o.reports.objects).toBe(0);
    }
    expect(run.output()).toMatch(new RegExp(`night\\s+${night}`));
    expect(code).toBe(0);
    expect(serverProcesses(report.servers.motoPort, report.servers.dbPort)).toEqual([]);
  });

  it('stops the shards and both servers on Ctrl-C (SIGINT) and exits 130', async () => {
    const run = startRun(['--count', '400000', '--shards', '2', '--work-dir', path.join(dir, 'interrupted'), '--jurisdictions', 'EU', '--report-types', 'TRANSACTION', '--entities', 'ENTITY-001']);
    let ports: { moto: number; db: number } | undefined;
    await waitFor(() => {
      const m = /servers: moto http:\/\/127\.0\.0\.1:(\d+) mariadb 127\.0\.0\.1:(\d+)/.exec(run.output());
      if (m) ports = { moto: Number(m[1]), db: Number(m[2]) };
      return Boolean(m);
    }, 'the servers line', 60_000, run.output);
    expect(serverProcesses(ports!.moto, ports!.db)).toHaveLength(2);
    await waitFor(() => /▶ process /.test(run.output()) || /local run failed/.test(run.output()), 'the processing stage', 90_000, run.output);
    expect(run.output()).not.toMatch(/local run failed/);
    await waitFor(() => shardsOf(ports!.moto).length > 0, 'a shard process', 30_000, run.output);
    const shards = shardsOf(ports!.moto);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.output()).toMatch(/SIGINT: stopping processor shards and servers/);
    expect(serverProcesses(ports!.moto, ports!.db)).toEqual([]);
    const alive = new Set(processes().map((p) => p.pid));
    expect(shards.filter((pid) => alive.has(pid))).toEqual([]);
    // Interrupted shards exit 143, which the job definition retries: no retry may start after the run.
    await new Promise((r) => setTimeout(r, 1000));
    expect(shardsOf(ports!.moto)).toEqual([]);
  });
});
