/**
 * Cross-stack contracts on the synthesized output: every `${...}` reference resolves inside its stack,
 * every remote-state read names an output the producing stack declares, the stack graph is acyclic and
 * equals the architecture's DAG, and outputs nobody reads are documented in the README.
 */
import { allReferences, elements, Finding, Obj, Stacks } from './stacks';

/** The architecture's DAG (docs/architecture.md): consumer -> producers it reads remote state from. */
export const EXPECTED_DAG: Readonly<Record<string, readonly string[]>> = {
  'security-baseline': [],
  network: [],
  data: ['network', 'security-baseline'],
  compute: ['network', 'data'],
  reporting: ['network', 'data'],
};

export interface ContractStats { references: number; remoteReads: number; edges: number }

/** Which stack a terraform_remote_state data source reads, from cdktf's name or its backend config. */
export function producerOf(name: string, config: Obj, stackIds: string[]): string | undefined {
  const m = /^cross-stack-reference-input-(.+)$/.exec(name);
  if (m && stackIds.includes(m[1])) return m[1];
  const text = JSON.stringify(config.config ?? {});
  return stackIds.filter((id) => new RegExp(`[^A-Za-z0-9-]${id.replace(/-/g, '\\-')}[^A-Za-z0-9-]`).test(text))
    .sort((a, b) => b.length - a.length)[0];
}

export function findCycle(graph: Record<string, string[]>): string[] | undefined {
  const state: Record<string, 0 | 1 | 2> = {};
  const stack: string[] = [];
  const dfs = (n: string): string[] | undefined => {
    state[n] = 1;
    stack.push(n);
    for (const m of graph[n] ?? []) {
      if (state[m] === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!state[m]) {
        const c = dfs(m);
        if (c) return c;
      }
    }
    stack.pop();
    state[n] = 2;
    return undefined;
  };
  for (const n of Object.keys(graph)) {
    if (!state[n]) {
      const c = dfs(n);
      if (c) return c;
    }
  }
  return undefined;
}

/** Output names documented in the README: any backticked name in a table row. */
export function documentedOutputs(readme: string): Set<string> {
  const names = new Set<string>();
  for (const line of readme.split('\n')) {
    if (!line.trimStart().startsWith('|')) continue;
    for (const m of line.matchAll(/`([A-Za-z0-9_-]+)`/g)) names.add(m[1]);
  }
  return names;
}

export function checkContracts(stacks: Stacks, readme: string, expected: Readonly<Record<string, readonly string[]>> = EXPECTED_DAG): { findings: Finding[]; stats: ContractStats } {
  const findings: Finding[] = [];
  const add = (stack: string, address: string, message: string) => findings.push({ check: 'contracts', stack, address, message });
  const ids = Object.keys(stacks);
  const graph: Record<string, string[]> = Object.fromEntries(ids.map((id) => [id, [] as string[]]));
  const readOutputs: Record<string, Set<string>> = Object.fromEntries(ids.map((id) => [id, new Set<string>()]));
  const stats: ContractStats = { references: 0, remoteReads: 0, edges: 0 };

  for (const [stack, tf] of Object.entries(stacks)) {
    const declared = new Set(elements(tf).map(([a]) => a));
    const remote = tf.data?.terraform_remote_state ?? {};
    for (const [name, config] of Object.entries(remote)) {
      const producer = producerOf(name, config, ids);
      if (!producer) add(stack, `data.terraform_remote_state.${name}`, `reads a state that is none of the stacks ${ids.join(', ')}`);
      else if (producer === stack) add(stack, `data.terraform_remote_state.${name}`, 'reads its own state');
      else if (!graph[stack].includes(producer)) graph[stack].push(producer);
    }
    for (const { from, at, ref } of allReferences(tf)) {
      stats.references++;
      const where = `${from} (${at})`;
      if (ref.kind === 'resource' || ref.kind === 'data') {
        const target = ref.kind === 'data' ? `data.${ref.type}.${ref.name}` : `${ref.type}.${ref.name}`;
        if (!declared.has(target)) add(stack, where, `\${${ref.text}} refers to ${target}, which this stack does not declare`);
      } else if (ref.kind === 'var') {
        if (!tf.variable?.[ref.name]) add(stack, where, `\${${ref.text}}: variable "${ref.name}" is not declared`);
      } else if (ref.kind === 'local') {
        if (!tf.locals || !(ref.name in tf.locals)) add(stack, where, `\${${ref.text}}: local "${ref.name}" is not declared`);
      } else if (ref.kind === 'remote') {
        stats.remoteReads++;
        const config = remote[ref.name];
        if (!config) {
          add(stack, where, `\${${ref.text}}: data.terraform_remote_state.${ref.name} is not declared`);
          continue;
        }
        const producer = producerOf(ref.name, config, ids);
        if (!producer) continue;
        if (!ref.output) {
          add(stack, where, `\${${ref.text}} reads the whole remote state; read one named output`);
        } else if (!stacks[producer].output?.[ref.output]) {
          add(stack, where, `\${${ref.text}} expects output "${ref.output}" from stack ${producer}, which declares only: `
            + `${Object.keys(stacks[producer].output ?? {}).join(', ') || '(none)'}`);
        } else {
          readOutputs[producer].add(ref.output);
        }
      }
    }
  }

  stats.edges = Object.values(graph).reduce((n, e) => n + e.length, 0);
  const cycle = findCycle(graph);
  if (cycle) add(cycle[0], 'stack graph', `dependency cycle ${cycle.join(' -> ')}`);
  for (const id of ids) {
    const want = [...(expected[id] ?? [])].sort();
    const got = [...graph[id]].sort();
    if (!(id in expected)) add(id, 'stack graph', `stack is not in the architecture's DAG (${Object.keys(expected).join(', ')})`);
    else {
      // Fewer edges than the DAG allows is fine (e.g. data reads network only when buckets are pinned
      // to the S3 endpoint); an edge the DAG does not have is not.
      const extra = got.filter((p) => !want.includes(p));
      if (extra.length) add(id, 'stack graph', `reads remote state of [${extra.join(', ')}], which the architecture does not allow (allowed: [${want.join(', ')}])`);
    }
  }
  for (const id of Object.keys(expected)) if (!stacks[id]) add(id, 'stack graph', 'stack from the architecture is missing in cdktf.out');

  const documented = documentedOutputs(readme);
  for (const [stack, tf] of Object.entries(stacks)) {
    for (const name of Object.keys(tf.output ?? {})) {
      if (readOutputs[stack].has(name)) continue;
      if (name.startsWith('cross-stack-output-')) {
        add(stack, `output.${name}`, 'cross-stack output that no stack reads (stale remote-state wiring)');
      } else if (!documented.has(name)) {
        add(stack, `output.${name}`, 'output nobody reads is not documented in the README outputs table');
      }
    }
  }
  return { findings, stats };
}
