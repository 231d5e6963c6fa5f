/**
 * Schema migrations run on deploy: Terraform invokes report-migrate with the hash of the migration set
 * in its input, so the invocation is replaced (and the migrations re-run, idempotently) exactly when a
 * migration file changes, never by hand.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Construct } from 'constructs';
import { PlatformPart } from '../platform-stack';
import { ITerraformDependable } from 'cdktf';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { PROJECT_ROOT } from '../lib/bundle';
import type { NodejsFunction } from '../constructs/nodejs-function';

/** Folders whose files make up the migration set (missing folders are skipped). */
export const MIGRATION_SOURCES = ['lambda-src/report-migrate', 'domain/reporting'];
const MIGRATION_FILE = /\.(sql|ts|js|json)$/;

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || e.name === 'node_modules') return [];
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listFiles(p);
    return MIGRATION_FILE.test(e.name) ? [p] : [];
  });
}

export interface MigrationSet {
  /** Hex SHA-256 over (relative path, content) of every file, in sorted path order. */
  readonly hash: string;
  readonly files: string[];
}

/** Deterministic hash of the migration set: same files and bytes -> same hash, on any machine. */
export function migrationSet(root = PROJECT_ROOT, sources = MIGRATION_SOURCES): MigrationSet {
  const files = sources.flatMap((s) => listFiles(path.join(root, s)))
    .map((f) => path.relative(root, f).split(path.sep).join('/'))
    .sort();
  if (files.length === 0) {
    throw new Error(`report-migrate: no migration files found under ${sources.join(', ')} (rule: the schema is applied on deploy)`);
  }
  const h = crypto.createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0').update(fs.readFileSync(path.join(root, f))).update('\0');
  }
  return { hash: h.digest('hex'), files };
}

export interface MigrationsOnDeployProps {
  readonly fn: NodejsFunction;
  readonly set: MigrationSet;
  /** Resources that must exist first (the writer instance). */
  readonly dependsOn: ITerraformDependable[];
}

export class MigrationsOnDeploy extends PlatformPart {
  readonly invocation: LambdaInvocation;

  constructor(scope: Construct, id: string, props: MigrationsOnDeployProps) {
    super(scope, id, { keepIdInAddresses: true });
    this.invocation = new LambdaInvocation(this, 'invoke', {
      functionName: props.fn.functionName,
      input: JSON.stringify({ action: 'migrate', migrationSetHash: props.set.hash }),
      triggers: { migrationSetHash: props.set.hash },
      dependsOn: [props.fn.fn, ...props.dependsOn],
    });
  }
}
