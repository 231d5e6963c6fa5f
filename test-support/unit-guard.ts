/**
 * The unit project runs no subprocesses (and so no local servers, checkov or terraform): in its suites
 * every child_process function throws, naming where such a suite belongs. Move a suite that needs one
 * to the integration or tooling list in test-support/test-projects.js. Two callers inside synth itself
 * are let through: esbuild, which bundles a Lambda handler when the bundle cache (.build/lambda)
 * misses, and cdktf's binary-version validation (`terraform version`, run by app.synth() for stacks
 * with moved blocks), so a unit synth is the same synth `npm run synth` does.
 */
const SYNTH_CALLERS = [/[\\/]node_modules[\\/]esbuild[\\/]/, /[\\/]node_modules[\\/]cdktf[\\/]lib[\\/]validations[\\/]validate-binary-version\.[jt]s/];
const FUNCTIONS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

jest.mock('child_process', () => {
  const actual = jest.requireActual<Record<string, (...args: unknown[]) => unknown>>('child_process');
  const guarded = (name: string) => (...args: unknown[]) => {
    const stack = new Error().stack ?? '';
    if (SYNTH_CALLERS.some((re) => re.test(stack))) return actual[name](...args);
    throw new Error(`child_process.${name} in a unit suite: unit tests run no subprocesses; list this suite under integration or tooling in test-support/test-projects.js`);
  };
  return { ...actual, ...Object.fromEntries(FUNCTIONS.map((name) => [name, guarded(name)])) };
});
