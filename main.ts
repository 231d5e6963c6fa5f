/**
 * Composition root: load config -> build the five stacks -> wire references -> synth.
 * Config is validated before the App exists, so bad config writes nothing to cdktf.out.
 */
import { App } from 'cdktf';
import { ConfigError, loadConfig, placeholderNotice, PlatformConfig } from './stacks/config';
import { SecurityBaselineStack } from './stacks/security-baseline-stack';
import { NetworkStack } from './stacks/network-stack';
import { DataStack } from './stacks/data-stack';
import { ComputeStack } from './stacks/compute-stack';
import { ReportingStack } from './stacks/reporting-stack';

export const STACK_IDS = ['security-baseline', 'network', 'data', 'compute', 'reporting'] as const;

export interface Platform {
  app: App;
  security: SecurityBaselineStack;
  network: NetworkStack;
  data: DataStack;
  compute: ComputeStack;
  reporting: ReportingStack;
}

/** Builds every stack into `app` along the DAG in docs/architecture.md. */
export function buildPlatform(app: App, cfg: PlatformConfig): Platform {
  const security = new SecurityBaselineStack(app, 'security-baseline', cfg);
  const network = new NetworkStack(app, 'network', cfg);
  const data = new DataStack(app, 'data', cfg, { network, accessLogBucketName: security.accessLogBucket.name });
  const compute = new ComputeStack(app, 'compute', cfg, { network, data });
  const reporting = new ReportingStack(app, 'reporting', cfg, { network, data });
  return { app, security, network, data, compute, reporting };
}

function main(): void {
  let cfg: PlatformConfig;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  // Placeholders: one note here (the configs in config/ use example values on purpose); with
  // PLATFORM_STRICT=1 loadConfig already refused them, one error line each.
  const notice = placeholderNotice(cfg);
  if (notice) process.stdout.write(`${notice}\n`);
  const app = new App();
  buildPlatform(app, cfg);
  app.synth();
}

if (require.main === module) main();
