/** Cross-stack contract check: the good fixture passes; each deliberately broken stack fails. */
import { checkContracts, findCycle } from '../../scripts/verify/contracts';
import { goodStacks, mutate, README } from './fixtures';

const messages = (stacks = goodStacks(), readme = README) => checkContracts(stacks, readme).findings.map((f) => `${f.stack}: ${f.address}: ${f.message}`);

test('the good fixture resolves every reference', () => {
  const { findings, stats } = checkContracts(goodStacks(), README);
  expect(findings).toEqual([]);
  expect(stats.remoteReads).toBe(6);
  expect(stats.edges).toBe(6);
});

test('a reference to a resource the stack does not declare fails with stack, address and target', () => {
  const broken = mutate(goodStacks(), (s) => { s.network.resource!.aws_subnet['private-0'].vpc_id = '${aws_vpc.main.id}'; });
  expect(messages(broken)).toEqual([expect.stringMatching(/^network: aws_subnet\.private-0 \(vpc_id\): \$\{aws_vpc\.main\.id\} refers to aws_vpc\.main, which this stack does not declare/)]);
});

test('undeclared data source, variable and local fail', () => {
  const broken = mutate(goodStacks(), (s) => {
    s.network.resource!.aws_vpc.vpc.tags = { a: '${data.aws_region.current.name}', b: '${var.env}', c: '${local.prefix}' };
  });
  const m = messages(broken).join('\n');
  expect(m).toMatch(/data\.aws_region\.current, which this stack does not declare/);
  expect(m).toMatch(/variable "env" is not declared/);
  expect(m).toMatch(/local "prefix" is not declared/);
});

test('a remote-state read of an output the producer does not declare fails, listing what it declares', () => {
  const broken = mutate(goodStacks(), (s) => {
    s.compute.resource!.aws_security_group.batch.vpc_id = '${data.terraform_remote_state.cross-stack-reference-input-network.outputs.vpc_identifier}';
  });
  expect(messages(broken).join('\n')).toMatch(/compute: aws_security_group\.batch \(vpc_id\): .* expects output "vpc_identifier" from stack network, which declares only: cross-stack-output-aws_vpcvpcid/);
});

test('a dependency cycle and a graph that departs from the architecture fail', () => {
  const broken = mutate(goodStacks(), (s) => {
    s.network.data!.terraform_remote_state = { 'cross-stack-reference-input-compute': { backend: 'local', config: { path: '../../../terraform.compute.tfstate' } } };
    s.network.resource!.aws_vpc.vpc.tags = { q: '${data.terraform_remote_state.cross-stack-reference-input-compute.outputs.nothing}' };
  });
  const m = messages(broken).join('\n');
  expect(m).toMatch(/dependency cycle (network -> compute -> network|compute -> network -> compute)/);
  expect(m).toMatch(/network: stack graph: reads remote state of \[compute\], which the architecture does not allow \(allowed: \[\]\)/);
});

test('findCycle finds none in the DAG', () => {
  expect(findCycle({ a: ['b'], b: ['c'], c: [] })).toBeUndefined();
  expect(findCycle({ a: ['b'], b: ['a'] })).toEqual(['a', 'b', 'a']);
});

test('an output nobody reads must be documented in the README table', () => {
  const withOutput = mutate(goodStacks(), (s) => { s.network.output!.vpc_id = { value: '${aws_vpc.vpc.id}' }; });
  expect(messages(withOutput)).toEqual(['network: output.vpc_id: output nobody reads is not documented in the README outputs table']);
  expect(messages(withOutput, `${README}| \`vpc_id\` | network | VPC id |\n`)).toEqual([]);
});

test('a cross-stack output nobody reads is stale wiring', () => {
  const broken = mutate(goodStacks(), (s) => { delete s.reporting.resource!.aws_security_group.lambda.description; });
  expect(messages(broken)).toEqual(['data: output.cross-stack-output-aws_dynamodb_tablejob-statusname: cross-stack output that no stack reads (stale remote-state wiring)']);
});

test('fewer edges than the DAG allows pass', () => {
  const fewer = mutate(goodStacks(), (s) => {
    delete s.data.resource!.aws_vpc_endpoint;
    delete s.data.data!.terraform_remote_state!['cross-stack-reference-input-network'];
    delete s.network.output!['cross-stack-output-aws_vpcvpcid'];
  });
  expect(messages(fewer)).toEqual([]);
});

test('a missing stack fails', () => {
  const broken = mutate(goodStacks(), (s) => { delete (s as Record<string, unknown>).reporting; });
  expect(messages(broken).join('\n')).toMatch(/reporting: stack graph: stack from the architecture is missing/);
});
