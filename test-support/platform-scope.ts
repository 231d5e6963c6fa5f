/**
 * A platform stack for tests of one part (network topology, flow logs, guardrail-checked constructs):
 * parts read config, account, region and naming from PlatformStack.of, so they need one as an ancestor.
 */
import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import type { PlatformConfig } from '../stacks/config';
import { PlatformStack } from '../stacks/platform-stack';
import { testConfig } from './config-fixture';

class TestPlatformStack extends PlatformStack {
  constructor(scope: Construct, id: string, cfg: PlatformConfig) {
    super(scope, id, cfg);
  }
}

/** A fresh platform stack (dev config unless given) in its own test app. */
export function platformScope(cfg: PlatformConfig = testConfig(), id = 'test'): PlatformStack {
  return new TestPlatformStack(Testing.app(), id, cfg);
}
