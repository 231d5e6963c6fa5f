/**
 * `npm run local -- [--count N] [--shards K] [--bad-share 0.03] [--keep] [--help]`: the nightly run end to end on
 * this machine with no AWS account (moto + MariaDB on loopback, the real handlers, processor and
 * reporting workflow). See scripts/local/ and docs/operations.md.
 */
import { ArgsError, parseArgs } from './local/args';
import { runLocal } from './local/run';

// The SDK's notice about future Node versions says nothing about this run and would break the progress view.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(typeof warning === 'string' ? warning : warning.message).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    if (err.help) {
      process.stdout.write(`${err.message}\n`);
      return 0;
    }
    process.stderr.write(`npm run local: ${err.message}\n`);
    return 2;
  }
  const write = process.stdout.write.bind(process.stdout);
  const report = await runLocal(args, (t) => write(t), Boolean(process.stdout.isTTY));
  return report.ok ? 0 : 1;
}

// Handlers keep database pools and SDK sockets open, as in Lambda: exit explicitly once done.
main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`local run: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
