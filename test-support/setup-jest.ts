import { format } from 'util';
import { Testing } from 'cdktf';

// cdktf's jest matchers (toHaveResource, toHaveResourceWithProperties, toHaveDataSource, ...).
Testing.setupJest();

// The SDK's documented switch for its Node.js support warning (printed once per test file otherwise):
// tests run on whatever node the machine has; the Lambda runtime is the stacks' business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/**
 * Console discipline: a test fails when it (or the code it runs) writes to console.* ; the output is
 * collected, not printed, and the failure names it. A figure a suite prints on purpose (the card-number
 * detector's measured rates) goes through reportFigure(). Handler suites route Powertools' own stdout
 * lines to a buffer (__tests__/lambda-src/quiet-logs.ts).
 */
const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const unexpected: string[] = [];

/**
 * Prints one line a test reports on purpose (a measured rate, a count), as `figure: <line>` straight to
 * stdout (not through jest's console, which frames every line with its source location).
 */
export function reportFigure(line: string): void {
  process.stdout.write(`figure: ${line}\n`);
}

for (const method of METHODS) {
  console[method] = (...args: unknown[]) => {
    unexpected.push(`console.${method}: ${format(...args).slice(0, 500)}`);
  };
}
const check = (where: string) => {
  if (unexpected.length === 0) return;
  const lines = unexpected.splice(0);
  throw new Error(`unexpected console output ${where} (${lines.length} call(s); print figures on purpose with reportFigure()):\n${lines.slice(0, 10).join('\n')}`);
};
beforeEach(() => check('before this test (in a beforeAll or an earlier test\'s leftovers)'));
afterEach(() => check('during this test'));
afterAll(() => check('in the suite\'s hooks'));
