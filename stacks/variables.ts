/**
 * Deploy-time inputs as Terraform variables: what an operator changes between deploys without a new
 * synth or commit. Each variable's default is the value from config (so a local or S3-backed deploy
 * behaves exactly as before), and its validation is the config rule itself, written for Terraform
 * (stacks/config.ts holds the patterns both use). A Terraform Cloud workspace overrides the default
 * with a workspace variable or a variable set (docs/operations.md, "Terraform Cloud workspaces").
 *
 * Adding a variable adds no resource: the resource addresses (addresses/*.txt) stay as they are.
 *
 * Only inputs that shape no policy are variables. Report recipients stay in config: an s3-access
 * recipient's principal is written into the reports-bucket and key policies, and the list of who
 * receives regulatory reports is one reviewed file that PLATFORM_STRICT and `npm run verify` check
 * (see docs/operations.md, "Which inputs are workspace variables").
 */
import { Construct } from 'constructs';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { EMAIL_PATTERN, IMAGE_TAG_PATTERN, IMAGE_TAG_RULE, MUTABLE_IMAGE_TAG } from './config';

/** Variable names, one place: tests, docs and the verify tooling refer to these. */
export const VARIABLE_NAMES = {
  processorImageTag: 'processor_image_tag',
  securityEmail: 'security_email',
  notificationEmail: 'notification_email',
} as const;

/** The HCL string literal of a text (JSON string syntax is valid HCL for what we quote). */
const hcl = (text: string) => JSON.stringify(text);

/** Validation condition: the value matches the config's image-tag rule and is not `latest`. */
export function imageTagCondition(ref: string): string {
  return `\${${ref} != ${hcl(MUTABLE_IMAGE_TAG)} && can(regex(${hcl(IMAGE_TAG_PATTERN)}, ${ref}))}`;
}

/** Validation condition: the value is an e-mail address by the config's rule. */
export function emailCondition(ref: string): string {
  return `\${can(regex(${hcl(EMAIL_PATTERN)}, ${ref}))}`;
}

/** A stack-level variable (its Terraform name is exactly `name`, whatever construct asks for it). */
function variable(scope: Construct, name: string, build: (ref: string) => ConstructorParameters<typeof TerraformVariable>[2]): TerraformVariable {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(name);
  if (existing instanceof TerraformVariable) return existing;
  return new TerraformVariable(stack, name, build(`var.${name}`));
}

/** `processor_image_tag`: the processor image the job definition runs (tag or sha256 digest). */
export function processorImageTagVariable(scope: Construct, defaultTag: string): TerraformVariable {
  return variable(scope, VARIABLE_NAMES.processorImageTag, (ref) => ({
    type: 'string',
    default: defaultTag,
    description: 'Processor image in the ECR repository (output ecr_repository_url) that the Batch job definition runs: '
      + 'an immutable tag such as 1.4.0 or a digest sha256:<64 hex>. Never "latest". Default: batch.imageTag from config.',
    nullable: false,
    validation: [{ condition: imageTagCondition(ref), errorMessage: `processor_image_tag ${IMAGE_TAG_RULE}: an immutable tag of [A-Za-z0-9_.-] (at most 128 characters) or sha256:<64 lowercase hex>.` }],
  }));
}

/** An alert topic's e-mail subscription address. */
export function alertEmailVariable(scope: Construct, name: string, defaultEmail: string, topics: string, configField: string): TerraformVariable {
  return variable(scope, name, (ref) => ({
    type: 'string',
    default: defaultEmail,
    description: `E-mail address subscribed to ${topics}. Changing it replaces the subscription; the new address must `
      + `confirm it before alerts reach it. Default: ${configField} from config.`,
    nullable: false,
    validation: [{ condition: emailCondition(ref), errorMessage: `${name} must be an e-mail address like ops@example.com.` }],
  }));
}
