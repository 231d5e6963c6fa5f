/**
 * Step Functions definitions as synthesized: references resolved, then validated with asl-validator
 * (Amazon States Language schema + transition checks). Also returns the parsed definitions for the
 * moto execution check.
 */
import { Finding, Stacks } from './stacks';
import { Placeholders } from './placeholders';

// asl-validator ships CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (def: unknown) => { isValid: boolean; errors: { 'Error code'?: string; Message?: string; message?: string; instancePath?: string }[] };

export interface StateMachine { stack: string; address: string; name: string; definition: Record<string, unknown> }

export function checkStateMachines(stacks: Stacks): { findings: Finding[]; machines: StateMachine[] } {
  const findings: Finding[] = [];
  const machines: StateMachine[] = [];
  for (const [stack, tf] of Object.entries(stacks)) {
    const ph = new Placeholders(stacks);
    for (const [name, sm] of Object.entries(tf.resource?.aws_sfn_state_machine ?? {})) {
      const address = `aws_sfn_state_machine.${name}`;
      if (typeof sm.definition !== 'string') {
        findings.push({ check: 'asl', stack, address, message: 'definition is not a JSON string' });
        continue;
      }
      let definition: Record<string, unknown>;
      try {
        definition = JSON.parse(ph.resolve(stack, sm.definition));
      } catch (e) {
        findings.push({ check: 'asl', stack, address, message: `definition is not valid JSON: ${(e as Error).message}` });
        continue;
      }
      const { isValid, errors } = aslValidator(definition);
      if (!isValid) {
        for (const err of errors) {
          findings.push({ check: 'asl', stack, address, message: `${err['Error code'] ?? 'SCHEMA'}: ${err.Message ?? err.message ?? ''} ${err.instancePath ?? ''}`.trim() });
        }
      }
      machines.push({ stack, address, name: typeof sm.name === 'string' ? ph.resolve(stack, sm.name) : name, definition });
    }
  }
  return { findings, machines };
}
