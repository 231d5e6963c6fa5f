/**
 * Property: whatever value lands in any config field, loading + synthesizing in-process either works
 * or throws the project's ConfigError (one line per problem), never another exception (which the
 * CLI would print as a stack trace). A small seeded generator (fast-check is not installed).
 */
import { ConfigError, parseConfig } from '../../stacks/config';
import { rng } from '../../scripts/generate-transactions';
import { rawConfig, synthPlatform } from '../../test-support/config-fixture';

type Path = (string | number)[];

/** Every leaf path of an object (arrays: each element and the array itself). */
function leaves(v: unknown, p: Path = []): Path[] {
  if (Array.isArray(v)) return [p, ...v.flatMap((x, i) => leaves(x, [...p, i]))];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...p, k]));
  return [p];
}

function setPath(obj: Record<string, unknown>, p: Path, value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  if (value === undefined) delete o[p[p.length - 1]];
  else o[p[p.length - 1]] = value;
}

const iterations = 400;
const maxSynths = 5;

describe('config property: load + synth never throws anything but ConfigError', () => {
  it(`${iterations} random configs`, () => {
    const r = rng(20261202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const cronPart = () => pick(['*', '?', String(int(-1, 70)), `${int(0, 30)}/${int(0, 20)}`, `${int(0, 12)}-${int(0, 40)}`, 'L', 'W', '15W', 'MON#2', 'JAN', 'FOO', 'MON-FRI', '6L', '', '1,2']);
    const anyValue = (): unknown => pick([
      () => int(-5, 5000), () => r() * 100, () => r() < 0.5, () => null, () => undefined, () => '', () => 'x'.repeat(int(1, 80)),
      () => `${int(0, 300)}.${int(0, 300)}.${int(0, 300)}.${int(0, 300)}/${int(0, 33)}`,
      () => `cron(${Array.from({ length: int(5, 7) }, cronPart).join(' ')})`,
      () => `rate(${int(0, 3)} ${pick(['minute', 'minutes', 'hour', 'hours', 'day', 'days', 'week'])})`,
      () => pick(['us-east-1', 'us-gov-west-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1', 'xx-yyyy-9']),
      () => pick(['ops@example.com', 'ops@bank.net', 'reports.bank.net', 'a@b', '@', 'x@y.zz']),
      () => `arn:${pick(['aws', 'aws-us-gov', 'aws-cn', 'aws-x'])}:iam::${int(0, 9).toString().repeat(12)}:role/${pick(['p', 'a/b/c', '', 'x y'])}`,
      () => pick(['create', 'adopt', 'existing', 'local', 's3', 'cloud', 'EU', 'US', 'TRANSACTION']),
      () => [int(0, 9).toString().repeat(12)], () => [], () => ({}), () => ['us-east-1a', 'us-east-1b', 'us-east-1b'],
      () => `${int(1, 9)}${'0'.repeat(int(0, 16))}.${int(0, 99999)}`, () => `sha256:${'a'.repeat(int(60, 66))}`,
    ])();
    // Mostly values of the field's own type (more configs get as far as synth), sometimes anything.
    const values = (original: unknown): unknown => {
      if (r() < 0.3) return anyValue();
      if (typeof original === 'number') return pick([int(0, 10), int(0, 600), int(3000, 30000), Math.round(r() * 160) / 10, original]);
      if (typeof original === 'boolean') return r() < 0.5;
      for (let tries = 0; tries < 20; tries++) {
        const v = anyValue();
        if (typeof v === typeof original) return v;
      }
      return anyValue();
    };
    const get = (o: unknown, p: Path): unknown => p.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string | number, unknown>)[k] : undefined), o);
    let loaded = 0;
    let synthesized = 0;
    let configErrors = 0;
    for (let i = 0; i < iterations; i++) {
      const raw = rawConfig(pick(['dev', 'staging', 'prod'])) as Record<string, unknown>;
      const paths = leaves(raw).filter((p) => p.length > 0);
      const changes: string[] = [];
      for (let k = r() < 0.7 ? 1 : int(2, 3); k > 0; k--) {
        const p = pick(paths);
        const v = values(get(raw, p));
        try {
          setPath(raw, p, v);
        } catch {
          continue; // the path went away with an earlier change
        }
        changes.push(`${p.join('.')}=${JSON.stringify(v)}`);
      }
      try {
        const cfg = parseConfig(raw, `property#${i}`);
        loaded++;
        if (synthesized < maxSynths) {
          synthesized++;
          synthPlatform(cfg);
        }
      } catch (e) {
        if (e instanceof ConfigError) {
          configErrors++;
          expect(e.problems.length).toBeGreaterThan(0);
          for (const line of e.problems) expect(line).not.toMatch(/\n/);
          continue;
        }
        throw new Error(`iteration ${i} (${changes.join(', ')}) threw ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    // Both outcomes were exercised, and the synthesizing path as often as asked.
    expect(configErrors).toBeGreaterThan(iterations / 10);
    expect(loaded).toBeGreaterThan(maxSynths);
    expect(synthesized).toBe(maxSynths);
  });
});
