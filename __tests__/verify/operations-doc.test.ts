/**
 * Every shell command in docs/operations.md (fenced blocks and inline `aws …`, `npx …`, `npm …`,
 * `docker …`, `jq …`, `terraform …` spans, including commands inside `$(…)` and pipelines) is parsed
 * and checked against the real tool:
 *   npx cdktf <cmd>   every flag appears in `npx cdktf <cmd> --help` of the installed cdktf-cli
 *   npm run <script>  the script exists in package.json (and flags after `--` appear in its source)
 *   aws <svc> <op>    the operation and every parameter exist in the botocore service model the AWS CLI
 *                     is generated from (CLI customizations listed below with what they accept)
 *   docker/jq/terraform  flags appear in the tool's own help when the tool is installed on this machine
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..', '..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const TOOLS = ['npx', 'npm', 'aws', 'docker', 'jq', 'terraform'];

/** Shell-ish tokenizer: quotes group, `$(…)` stays one token, `|`, `&&`, `;` separate commands. */
function tokenize(cmd: string): string[][] {
  const commands: string[][] = [[]];
  let cur = '';
  let quote: string | null = null;
  let depth = 0;
  const push = () => { if (cur) commands[commands.length - 1].push(cur); cur = ''; };
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (depth > 0) {
      cur += c;
      if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '$' && cmd[i + 1] === '(' && quote === '"') { cur += '$('; i++; depth = 1; } else cur += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '$' && cmd[i + 1] === '(') { cur += '$('; i++; depth = 1; } else if (/\s/.test(c)) push();
    else if (c === '|' || c === ';' || (c === '&' && cmd[i + 1] === '&')) {
      push();
      if (c === '&') i++;
      commands.push([]);
    } else cur += c;
  }
  push();
  return commands.filter((c) => c.length);
}

/** Every command line of the doc, with nested `$(…)` commands. */
function commandsOf(md: string): string[][] {
  const raw: string[] = [];
  // Every fenced block, tagged or not: a line is a command when it starts with a tool (after VAR=value
  // assignments) or runs one in $(…); diagrams and other text are left alone.
  for (const block of md.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const code = line.replace(/\s+#\s.*$/, '').trim();
      const first = code.replace(/^([A-Z_]+=\S+ )+/, '').split(' ')[0];
      if (code && (TOOLS.includes(first) || code.includes('$('))) raw.push(code);
    }
  }
  const withoutBlocks = md.replace(/```[\s\S]*?```/g, '');
  for (const span of withoutBlocks.matchAll(/`([^`]+)`/g)) {
    const text = span[1].replace(/\s+/g, ' ').trim();
    const first = text.replace(/^([A-Z_]+=\S+ )+/, '').split(' ')[0];
    if (TOOLS.includes(first) && text.includes(' ')) raw.push(text);
  }
  const out: string[][] = [];
  const add = (line: string) => {
    for (const words of tokenize(line)) {
      for (const w of words) for (const inner of w.matchAll(/\$\(([^)]*(?:\([^)]*\)[^)]*)*)\)/g)) add(inner[1]);
      const cmd = words.filter((w, i) => !(i < words.findIndex((x) => !/^[A-Z_]+=/.test(x)) && /^[A-Z_]+=/.test(w)));
      const start = cmd.findIndex((w) => !/^[A-Z_]+=/.test(w));
      const real = cmd.slice(start);
      if (real.length && TOOLS.includes(real[0])) out.push(real);
    }
  };
  for (const r of raw) add(r);
  return out;
}

const flagsOf = (words: string[]) => words.filter((w) => /^--?[a-zA-Z]/.test(w)).map((w) => w.split('=')[0]);
const helpCache = new Map<string, string>();
function help(args: string[]): { ok: boolean; text: string } {
  const key = args.join(' ');
  if (!helpCache.has(key)) {
    const r = spawnSync(args[0], args.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, AWS_PAGER: '', CHECKPOINT_DISABLE: '1' } });
    helpCache.set(key, `${r.status === 0 ? 'OK\n' : 'FAIL\n'}${r.stdout}${r.stderr}`);
  }
  const text = helpCache.get(key)!;
  return { ok: text.startsWith('OK\n'), text };
}
const installed = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

const commands = commandsOf(DOC);

describe('docs/operations.md commands', () => {
  it('finds the commands (blocks, inline spans, nested $(…))', () => {
    const tools = new Set(commands.map((c) => c[0]));
    expect([...tools].sort()).toEqual(expect.arrayContaining(['aws', 'docker', 'jq', 'npm', 'npx']));
    expect(commands.filter((c) => c[0] === 'aws').length).toBeGreaterThanOrEqual(7);
    expect(commands.some((c) => c.join(' ').startsWith('npx cdktf output compute'))).toBe(true);
  });

  it('npx cdktf: each subcommand exists and every flag is one of its real options', () => {
    const problems: string[] = [];
    for (const c of commands.filter((x) => x[0] === 'npx')) {
      if (c[1] !== 'cdktf') { problems.push(`unexpected npx tool: ${c.join(' ')}`); continue; }
      const h = help(['npx', 'cdktf', c[2], '--help']);
      if (!h.ok || !h.text.includes(`cdktf ${c[2]}`)) { problems.push(`cdktf has no "${c[2]}" command: ${c.join(' ')}`); continue; }
      for (const f of flagsOf(c.slice(3))) if (!new RegExp(`(^|[\\s,])${f}([\\s,=]|$)`, 'm').test(h.text)) problems.push(`cdktf ${c[2]} has no ${f}: ${c.join(' ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('the --json flag cdktf-cli 0.21 does not have is never used', () => {
    expect(help(['npx', 'cdktf', 'output', '--help']).text).not.toMatch(/--json\b/);
    expect(commands.filter((c) => c.includes('--json'))).toEqual([]);
  });

  it('npm run: every script exists in package.json and its flags are read by it', () => {
    const problems: string[] = [];
    for (const c of commands.filter((x) => x[0] === 'npm')) {
      if (c[1] !== 'run') { problems.push(`unexpected npm command: ${c.join(' ')}`); continue; }
      const script = c.slice(2).find((w) => !w.startsWith('-'))!;
      if (!PKG.scripts[script]) { problems.push(`no npm script "${script}"`); continue; }
      const sep = c.indexOf('--');
      if (sep > 0) {
        const file = PKG.scripts[script].split(' ').find((w) => /\.(ts|mjs|js|sh)$/.test(w));
        const source = file ? fs.readFileSync(path.join(ROOT, file), 'utf8') : '';
        for (const f of flagsOf(c.slice(sep + 1))) if (!source.includes(f)) problems.push(`${script} does not read ${f}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('aws: every operation and parameter exists in the service model the CLI is built from', () => {
    const aws = commands.filter((x) => x[0] === 'aws').map((c) => ({ service: c[1], op: c[2], flags: flagsOf(c.slice(3)) }));
    const script = `
import json, sys
import botocore.session
from botocore import xform_name
GLOBAL = {"--region", "--output", "--query", "--profile", "--endpoint-url", "--cli-binary-format", "--no-cli-pager", "--debug"}
# CLI customizations, not model operations: ecr get-login-password prints a token; lambda invoke takes
# the output file as a positional argument (both documented in the AWS CLI reference).
CUSTOM = {("ecr", "get-login-password"): set()}
ALIASES = {"s3api": "s3"}
s = botocore.session.get_session()
out = []
for c in json.load(sys.stdin):
    svc = ALIASES.get(c["service"], c["service"])
    if (c["service"], c["op"]) in CUSTOM:
        bad = [f for f in c["flags"] if f not in CUSTOM[(c["service"], c["op"])] | GLOBAL]
        out.extend(f"aws {c['service']} {c['op']}: unknown {f}" for f in bad)
        continue
    try:
        model = s.get_service_model(svc)
    except Exception as e:
        out.append(f"aws {c['service']}: no such service ({e})"); continue
    ops = {xform_name(o, "-"): o for o in model.operation_names}
    if c["op"] not in ops:
        out.append(f"aws {c['service']} {c['op']}: no such operation"); continue
    shape = model.operation_model(ops[c["op"]]).input_shape
    members = {"--" + xform_name(m, "-") for m in (shape.members if shape else {})}
    out.extend(f"aws {c['service']} {c['op']}: unknown {f}" for f in c["flags"] if f not in members | GLOBAL)
json.dump(out, sys.stdout)
`;
    const r = spawnSync(path.join(ROOT, '.venv', 'bin', 'python'), ['-c', script], { input: JSON.stringify(aws), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('docker, jq, terraform: every flag appears in the tool\'s own help (where installed)', () => {
    const problems: string[] = [];
    for (const c of commands.filter((x) => ['docker', 'jq', 'terraform'].includes(x[0]))) {
      if (!installed(c[0])) continue;
      const words = c[0] === 'jq' ? [] : c.slice(1).filter((w) => /^[a-z]+$/.test(w)).slice(0, c[0] === 'terraform' ? 2 : 1);
      const h = help([c[0], ...words, c[0] === 'terraform' ? '-help' : '--help']);
      for (const f of flagsOf(c.slice(1 + words.length))) {
        if (!new RegExp(`(^|[\\s,])${f}([\\s,=]|$)`, 'm').test(h.text)) problems.push(`${c[0]} ${words.join(' ')} has no ${f}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
