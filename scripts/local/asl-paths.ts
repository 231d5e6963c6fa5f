/**
 * The data-flow half of the local ASL interpreter: reference paths (`$.a.b`, `$$.Map.Item.Value`,
 * `$.list[0]`), payload templates (`"key.$"`) and the intrinsic functions the platform's workflow
 * uses. Anything outside that subset throws, naming what is unsupported, instead of guessing.
 */

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The error a state raises, with the names Step Functions gives it (States.*, a handler's error name). */
export class StatesError extends Error {
  constructor(readonly error: string, readonly cause: string) {
    super(`${error}: ${cause}`);
    this.name = error;
  }
}

function segments(path: string, where: string): (string | number)[] {
  const rest = path.replace(/^\$\$?/, '');
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_@-]+)|\[(\d+)\]|\['([^']+)'\]/y;
  let i = 0;
  while (i < rest.length) {
    re.lastIndex = i;
    const m = re.exec(rest);
    if (!m) throw new StatesError('States.Runtime', `${where}: unsupported path syntax "${path}"`);
    out.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3]));
    i = re.lastIndex;
  }
  return out;
}

/** Value at a reference path; `$$` paths read the context object. Missing fields are a runtime error. */
export function readPath(path: string, input: Json, context: Json, where = 'path'): Json {
  if (!path.startsWith('$')) throw new StatesError('States.Runtime', `${where}: "${path}" is not a path`);
  let cur: Json | undefined = path.startsWith('$$') ? context : input;
  for (const seg of segments(path, where)) {
    if (cur === null || typeof cur !== 'object' || !(seg in cur)) {
      throw new StatesError('States.Runtime', `${where}: the path "${path}" matched nothing in the input`);
    }
    cur = (cur as Record<string, Json>)[seg as string];
  }
  return cur as Json;
}

export function hasPath(path: string, input: Json, context: Json): boolean {
  try {
    readPath(path, input, context);
    return true;
  } catch {
    return false;
  }
}

/** ResultPath: place `result` into (a copy of) `input`; `null` keeps the input, `$` replaces it. */
export function applyResultPath(input: Json, result: Json, resultPath: string | null | undefined): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const segs = segments(resultPath, 'ResultPath');
  const root: Json = input !== null && typeof input === 'object' && !Array.isArray(input) ? structuredClone(input) : {};
  let cur = root as Record<string, Json>;
  segs.forEach((seg, i) => {
    const key = String(seg);
    if (i === segs.length - 1) {
      cur[key] = result;
      return;
    }
    const next = cur[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[key] = {};
    cur = cur[key] as Record<string, Json>;
  });
  return root;
}

// --- intrinsic functions ------------------------------------------------------------------------

type Token = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'path'; value: string }
  | { kind: 'call'; name: string; args: Token[] } | { kind: 'literal'; value: Json };

function parseCall(text: string, where: string): Token {
  let i = 0;
  const fail = (msg: string): never => { throw new StatesError('States.Runtime', `${where}: ${msg} in "${text}"`); };
  const ws = () => { while (text[i] === ' ') i++; };
  const arg = (): Token => {
    ws();
    if (text[i] === "'") {
      let s = '';
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\') i++;
        s += text[i++];
      }
      if (text[i] !== "'") fail('unterminated string');
      i++;
      return { kind: 'string', value: s };
    }
    if (text[i] === '$') {
      const start = i;
      while (i < text.length && !/[,)\s]/.test(text[i])) i++;
      return { kind: 'path', value: text.slice(start, i) };
    }
    if (text.startsWith('States.', i)) return call();
    const m = /^(-?\d+(\.\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) return fail(`unexpected argument at ${i}`);
    i += m[0].length;
    return /^-?\d/.test(m[0]) ? { kind: 'number', value: Number(m[0]) } : { kind: 'literal', value: JSON.parse(m[0]) as Json };
  };
  const call = (): Token => {
    const m = /^States\.[A-Za-z0-9]+/.exec(text.slice(i));
    if (!m) return fail('expected an intrinsic function');
    i += m[0].length;
    ws();
    if (text[i++] !== '(') fail('expected "("');
    const args: Token[] = [];
    ws();
    if (text[i] === ')') i++;
    else {
      for (;;) {
        args.push(arg());
        ws();
        const c = text[i++];
        if (c === ')') break;
        if (c !== ',') fail('expected "," or ")"');
      }
    }
    return { kind: 'call', name: m[0], args };
  };
  const t = call();
  ws();
  if (i !== text.length) fail('trailing characters');
  return t;
}

function evalToken(t: Token, input: Json, context: Json, where: string): Json {
  switch (t.kind) {
    case 'string':
    case 'number':
    case 'literal':
      return t.value;
    case 'path':
      return readPath(t.value, input, context, where);
    case 'call': {
      const args = t.args.map((a) => evalToken(a, input, context, where));
      switch (t.name) {
        case 'States.Format': {
          const [template, ...values] = args;
          if (typeof template !== 'string') throw new StatesError('States.Runtime', `${where}: States.Format needs a template string`);
          let n = 0;
          return template.replace(/\{\}/g, () => {
            const v = values[n++];
            if (v === undefined) throw new StatesError('States.Runtime', `${where}: States.Format has fewer arguments than {}`);
            return typeof v === 'string' ? v : JSON.stringify(v);
          });
        }
        case 'States.JsonToString':
          return JSON.stringify(args[0]);
        case 'States.StringToJson':
          return JSON.parse(String(args[0])) as Json;
        case 'States.Array':
          return args;
        default:
          throw new StatesError('States.Runtime', `${where}: intrinsic ${t.name} is not supported by the local interpreter`);
      }
    }
  }
}

/** Payload template (Parameters, ItemSelector, ResultSelector): `key.$` values are paths or intrinsics. */
export function renderTemplate(template: Json, input: Json, context: Json, where = 'Parameters'): Json {
  if (Array.isArray(template)) return template.map((v) => renderTemplate(v, input, context, where));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw new StatesError('States.Runtime', `${where}: "${key}" must hold a path or intrinsic`);
      out[key.slice(0, -2)] = value.startsWith('States.') ? evalToken(parseCall(value, where), input, context, where) : readPath(value, input, context, `${where}.${key}`);
    } else {
      out[key] = renderTemplate(value, input, context, where);
    }
  }
  return out;
}
