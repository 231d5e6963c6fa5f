/**
 * State backend selection, applied identically to every stack so that cdktf's cross-stack references
 * (outputs + terraform_remote_state reads) resolve for local, S3 and Terraform Cloud alike.
 */
import { CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from 'cdktf';
import type { BackendConfig } from './config';

export type BackendKind = BackendConfig['type'];

export function applyBackend(stack: TerraformStack, backend: BackendConfig, stackId: string): BackendKind {
  switch (backend.type) {
    case 'local':
      // Terraform runs in cdktf.out/stacks/<stack>/; every stack dir has the same depth, so one relative
      // path names the state file at the project root both for the owner and for remote-state readers.
      new LocalBackend(stack, { path: `../../../terraform.${stackId}.tfstate` });
      break;
    case 's3':
      new S3Backend(stack, {
        bucket: backend.bucket,
        key: `${backend.keyPrefix}/${stackId}.tfstate`,
        region: backend.region,
        encrypt: true,
        ...(backend.dynamodbTable ? { dynamodbTable: backend.dynamodbTable } : {}),
      });
      if (!backend.dynamodbTable) {
        // Terraform >= 1.10 native S3 locking when no lock table is configured.
        stack.addOverride('terraform.backend.s3.use_lockfile', true);
      }
      break;
    case 'cloud':
      new CloudBackend(stack, {
        organization: backend.organization,
        hostname: backend.hostname,
        workspaces: new NamedCloudWorkspace(`${backend.workspacePrefix}-${stackId}`),
      });
      break;
    default: {
      const never: never = backend;
      throw new Error(`unknown backend ${JSON.stringify(never)}`);
    }
  }
  return backend.type;
}
