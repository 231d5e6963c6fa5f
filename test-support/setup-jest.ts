import { format } from 'util';
import { Testing } from 'cdktf';

// cdktf's jest matchers (toHaveResource, toHaveResourceWithProperties, toHaveDataSource, ...).
Testing.setupJest();

// The SDK's documented switch for its Node.js support warning (printed once per test file otherwise):
// tests run on whatever node the machine has; the Lambda runtime is the stacks' business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * Console discipline: in the suites listed here a test fails when it (or the code it runs) writes to
 * console.* without opting in with `allowConsoleOutput()`; the output is then collected, not printed,
 * and the failure names it. Handler suites route Powertools' own stdout lines to a buffer
 * (__tests__/lambda-src/quiet-logs.ts). Other suites join by being added here once they are quiet.
 */
const STRICT_SUITES = [/[\\/]__tests__[\\/]lambda-src[\\/]/, /[\\/]__tests__[\\/]domain[\\/]/];
const testPath = expect.getState().testPath ?? '';
const strict = STRICT_SUITES.some((re) => re.test(testPath));

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
let allowed = false;
const unexpected: string[] = [];

/** The current test may write to the console (its output is printed as usual). */
export function allowConsoleOutput(): void {
  allowed = true;
}

if (strict) {
  for (const method of METHODS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (allowed) return original(...args);
      unexpected.push(`console.${method}: ${format(...args).slice(0, 500)}`);
    };
  }
  const check = (where: string) => {
    if (unexpected.length === 0) return;
    const lines = unexpected.splice(0);
    throw new Error(`unexpected console output ${where} (${lines.length} call(s); call allowConsoleOutput() in a test that means it):\n${lines.slice(0, 10).join('\n')}`);
  };
  beforeEach(() => {
    check('before this test (in a beforeAll or an earlier test\'s leftovers)');
    allowed = false;
  });
  afterEach(() => {
    allowed = false;
    check('during this test');
  });
  afterAll(() => check('in the suite\'s hooks'));
}
