/**
 * Imported first by the handler tests. Handler output stays out of the test output and can be read
 * back: Powertools writes its JSON log lines and EMF metric documents straight to process.stdout and
 * process.stderr (not through console), so those lines go into a buffer here instead of the terminal;
 * anything else written there passes through. Loggers read their level when the handler modules load, so the
 * default level is set before they do.
 */
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR';

export interface HandlerOutput {
  /** Every captured line, in order. */
  readonly lines: string[];
  /** Powertools log records (JSON with `level` and `message`). */
  logs(): Array<Record<string, unknown>>;
  /** EMF documents (JSON with `_aws`). */
  emf(): Array<Record<string, unknown>>;
  clear(): void;
}

const lines: string[] = [];
const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
export const handlerOutput: HandlerOutput = {
  lines,
  logs: () => parsed().filter((r) => typeof r.level === 'string' && 'message' in r),
  emf: () => parsed().filter((r) => r._aws !== undefined),
  clear: () => { lines.length = 0; },
};

function isHandlerLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    return r !== null && (r._aws !== undefined || (typeof r.level === 'string' && 'message' in r));
  } catch {
    return false;
  }
}

/** Handler lines of `stream` go to the buffer; the rest passes through. Returns the restore function. */
function route(stream: NodeJS.WriteStream): () => void {
  const original = stream.write.bind(stream);
  (stream as unknown as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (isHandlerLine(line)) lines.push(line);
      else if (line !== '') kept.push(line);
    }
    if (kept.length === 0) {
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }
    return (original as (...a: unknown[]) => boolean)(`${kept.join('\n')}\n`, ...rest);
  };
  return () => { (stream as unknown as { write: unknown }).write = original; };
}

// Powertools' logger writes INFO and below to stdout, WARN and ERROR to stderr; EMF goes to stdout.
const restore = [route(process.stdout), route(process.stderr)];
afterAll(() => {
  for (const r of restore) r();
});
