/**
 * Reading synthesized stacks (`<dir>/<stack>/cdk.tf.json`) and the `${...}` references inside them.
 * Shared by every deployability check in scripts/verify/.
 */
import * as fs from 'fs';
import * as path from 'path';

export type Obj = Record<string, unknown>;

export interface TfJson {
  resource?: Record<string, Record<string, Obj>>;
  data?: Record<string, Record<string, Obj>>;
  output?: Record<string, { value: unknown; description?: string; sensitive?: boolean }>;
  variable?: Record<string, Obj>;
  locals?: Obj;
  provider?: Record<string, Obj[]>;
  terraform?: Obj;
  [k: string]: unknown;
}

export type Stacks = Record<string, TfJson>;

export interface Finding {
  readonly check: string;
  readonly stack: string;
  readonly address: string;
  readonly message: string;
}

/** Input verify cannot check (no synth output, unreadable JSON): reported as one line, no stack trace. */
export class VerifyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyInputError';
  }
}

export function loadStacks(dir: string): Stacks {
  const stacksDir = path.join(dir, 'stacks');
  const shown = path.relative(process.cwd(), stacksDir) || stacksDir;
  if (!fs.existsSync(stacksDir)) throw new VerifyInputError(`${shown} does not exist: run \`npm run synth\` first (or set VERIFY_OUT to a synth output directory)`);
  const out: Stacks = {};
  for (const id of fs.readdirSync(stacksDir).sort()) {
    const file = path.join(stacksDir, id, 'cdk.tf.json');
    if (!fs.existsSync(file)) continue;
    try {
      out[id] = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new VerifyInputError(`${path.relative(process.cwd(), file) || file} is not valid JSON (${(e as Error).message}): run \`npm run synth\` again`);
    }
  }
  if (!Object.keys(out).length) throw new VerifyInputError(`no ${shown}/*/cdk.tf.json found: run \`npm run synth\` first`);
  return out;
}

/** Every resource and data source of a stack as [address, type, config]. */
export function elements(tf: TfJson): [string, string, Obj][] {
  const out: [string, string, Obj][] = [];
  for (const [type, items] of Object.entries(tf.resource ?? {})) {
    for (const [name, config] of Object.entries(items)) out.push([`${type}.${name}`, type, config]);
  }
  for (const [type, items] of Object.entries(tf.data ?? {})) {
    for (const [name, config] of Object.entries(items)) out.push([`data.${type}.${name}`, type, config]);
  }
  return out;
}

/** Visits every string inside a value (skipping cdktf's "//" metadata), with its JSON path. */
export function walkStrings(value: unknown, visit: (s: string, at: string) => void, at = ''): void {
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, visit, `${at}[${i}]`));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== '//') walkStrings(v, visit, at ? `${at}.${k}` : k);
  }
}

/** The bodies of `${...}` interpolations in a string (brace-balanced; `$${` is an escape). */
export function interpolations(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '{' && s[i - 1] !== '$') {
      let depth = 0;
      let j = i + 1;
      let inStr = false;
      for (; j < s.length; j++) {
        const c = s[j];
        if (inStr) {
          if (c === '\\') j++;
          else if (c === '"') inStr = false;
        } else if (c === '"') inStr = true;
        else if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
      }
      out.push(s.slice(i + 2, j));
      i = j;
    }
  }
  return out;
}

export type Reference =
  | { kind: 'resource'; type: string; name: string; attr: string; text: string }
  | { kind: 'data'; type: string; name: string; attr: string; text: string }
  | { kind: 'var' | 'local'; name: string; text: string }
  | { kind: 'remote'; name: string; output: string; text: string };

const TRAVERSAL = /(?<![\w.-])(data\.[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*|var\.[A-Za-z_][\w-]*|local\.[A-Za-z_][\w-]*|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)/g;
// Names that look like traversals inside HCL expressions but are not references.
const NOT_REFS = /^(terraform\.|each\.|count\.|self\.|path\.)/;

/** The references inside one interpolation body (string literals stripped first). */
export function referencesIn(expr: string): Reference[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const out: Reference[] = [];
  for (const m of code.matchAll(TRAVERSAL)) {
    const text = m[1];
    if (NOT_REFS.test(text)) continue;
    const parts = text.split('.');
    if (parts[0] === 'var' || parts[0] === 'local') out.push({ kind: parts[0], name: parts[1], text });
    else if (parts[0] === 'data' && parts[1] === 'terraform_remote_state') {
      out.push({ kind: 'remote', name: parts[2], output: parts[3] === 'outputs' ? parts[4] ?? '' : '', text });
    } else if (parts[0] === 'data') out.push({ kind: 'data', type: parts[1], name: parts[2], attr: parts.slice(3).join('.'), text });
    else out.push({ kind: 'resource', type: parts[0], name: parts[1], attr: parts.slice(2).join('.'), text });
  }
  return out;
}

/** All references in a stack, with the address and attribute path that holds them. */
export function allReferences(tf: TfJson): { from: string; at: string; ref: Reference }[] {
  const out: { from: string; at: string; ref: Reference }[] = [];
  const scan = (from: string, value: unknown) => walkStrings(value, (s, at) => {
    for (const body of interpolations(s)) for (const ref of referencesIn(body)) out.push({ from, at, ref });
  });
  for (const [address, , config] of elements(tf)) scan(address, config);
  for (const [name, o] of Object.entries(tf.output ?? {})) scan(`output.${name}`, o);
  for (const [name, v] of Object.entries(tf.locals ?? {})) scan(`local.${name}`, v);
  for (const [type, blocks] of Object.entries(tf.provider ?? {})) scan(`provider.${type}`, blocks);
  return out;
}
