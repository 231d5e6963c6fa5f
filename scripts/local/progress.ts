/**
 * Progress for an operator watching the run: one line per stage start/end with its duration, and while
 * a long stage runs, a live line (TTY: rewritten in place; otherwise at most every 5 s) with counts
 * and rate. Writes through the writer it is given, so handler output captured elsewhere never mixes in.
 */

export interface StageTiming {
  stage: string;
  seconds: number;
  detail?: string;
  count?: number;
  ok: boolean;
}

export class Progress {
  readonly timings: StageTiming[] = [];
  private live = false;
  private current?: { name: string; started: number; lastTick: number; message: string; count?: number };

  constructor(private readonly write: (text: string) => void, private readonly tty: boolean) {}

  line(text: string): void {
    this.clearLive();
    this.write(`${text}\n`);
  }

  async stage<T>(name: string, description: string, fn: () => Promise<{ value: T; detail?: string; count?: number }>): Promise<T> {
    const started = Date.now();
    this.current = { name, started, lastTick: Date.now(), message: 'running' };
    this.line(`▶ ${name.padEnd(12)} ${description}`);
    // Long stages without their own ticks (the database load) still show they are alive.
    const heartbeat = setInterval(() => this.render(), this.tty ? 1000 : 10_000);
    heartbeat.unref();
    try {
      const { value, detail, count } = await fn();
      const seconds = (Date.now() - started) / 1000;
      this.timings.push({ stage: name, seconds, detail, count, ok: true });
      const rate = count && seconds > 0 ? `, ${Math.round(count / seconds).toLocaleString('en-US')}/s` : '';
      this.line(`✓ ${name.padEnd(12)} ${seconds.toFixed(1)} s${rate}${detail ? `  ${detail}` : ''}`);
      return value;
    } catch (err) {
      const seconds = (Date.now() - started) / 1000;
      this.timings.push({ stage: name, seconds, detail: (err as Error).message, ok: false });
      this.line(`✗ ${name.padEnd(12)} ${seconds.toFixed(1)} s  ${(err as Error).name}: ${(err as Error).message}`);
      throw err;
    } finally {
      clearInterval(heartbeat);
      this.current = undefined;
    }
  }

  /** Live status inside the current stage; `count` gives the rate. */
  tick(message: string, count?: number): void {
    if (!this.current) return;
    this.current.message = message;
    this.current.count = count;
    this.render(true);
  }

  private render(fromTick = false): void {
    const cur = this.current;
    if (!cur) return;
    const { message, count } = cur;
    const now = Date.now();
    const secs = (now - cur.started) / 1000;
    const rate = count !== undefined && secs > 0 ? `  ${Math.round(count / secs).toLocaleString('en-US')}/s` : '';
    const text = `  ${cur.name}: ${message}${rate}  (${secs.toFixed(0)} s)`;
    if (this.tty) {
      this.write(`\r\x1b[2K${text}`);
      this.live = true;
    } else if (now - cur.lastTick >= (fromTick ? 5000 : 9500)) {
      this.write(`${text}\n`);
    } else return;
    cur.lastTick = now;
  }

  private clearLive(): void {
    if (this.live) this.write('\r\x1b[2K');
    this.live = false;
  }
}
