/**
 * Function environments: the schema a stack fills (functionEnvironment) and a handler parses
 * (parseFunctionEnvironment), with errors that name the function, the variable and the rule.
 */
import { FUNCTION_ENVIRONMENTS, functionEnvironment, parseEnvironment, parseFunctionEnvironment } from '../../contracts/lambda-environment';
import { FUNCTION_NAMESPACES } from '../../contracts/metric-names';

const deadline = { JOB_STATUS_TABLE: 'status', ALERTS_TOPIC_ARN: 'arn:topic', BATCH_WINDOW_HOURS: 4, ENVIRONMENT: 'dev' };

describe('functionEnvironment (stacks)', () => {
  it('gives the variables as strings, in the order given, leaving out optional ones left undefined', () => {
    expect(functionEnvironment('run-deadline', deadline)).toEqual({ JOB_STATUS_TABLE: 'status', ALERTS_TOPIC_ARN: 'arn:topic', BATCH_WINDOW_HOURS: '4', ENVIRONMENT: 'dev' });
    const { ENVIRONMENT: _environment, ...deadlineRest } = deadline;
    expect(Object.keys(functionEnvironment('run-deadline', { ENVIRONMENT: 'dev', ...deadlineRest }))).toEqual(['ENVIRONMENT', 'JOB_STATUS_TABLE', 'ALERTS_TOPIC_ARN', 'BATCH_WINDOW_HOURS']);
    const loader = functionEnvironment('report-loader', {
      ENVIRONMENT: 'dev', DB_SECRET_ARN: 's', DB_HOST: 'h', DB_PORT: 3306, DB_NAME: 'reporting', PROCESSED_BUCKET: 'p', PROCESSED_KMS_KEY_ARN: 'k',
      JOB_STATUS_TABLE: 't', STATE_MACHINE_ARN: 'm', ALERTS_TOPIC_ARN: 'a', LOADER_BATCH_SIZE: undefined,
    });
    expect(loader).not.toHaveProperty('LOADER_BATCH_SIZE');
    expect(loader.DB_PORT).toBe('3306');
  });

  it('refuses a missing variable, an unknown one and a bad integer (callers that get past the types)', () => {
    const loose = functionEnvironment as (entry: string, values: Record<string, unknown>) => Record<string, string>;
    expect(() => loose('run-deadline', { ...deadline, ENVIRONMENT: undefined })).toThrow('run-deadline environment: ENVIRONMENT is required by run-deadline');
    expect(() => loose('run-deadline', { ...deadline, WINDOW: '4' })).toThrow('WINDOW is not a variable of run-deadline');
    expect(() => loose('run-deadline', { ...deadline, BATCH_WINDOW_HOURS: 0 })).toThrow('environment variable BATCH_WINDOW_HOURS must be an integer >= 1, got "0"');
  });

  it('lets a Terraform token stand for an integer known at apply time', () => {
    expect(functionEnvironment('run-deadline', { ...deadline, BATCH_WINDOW_HOURS: '${var.window}' }).BATCH_WINDOW_HOURS).toBe('${var.window}');
  });

  it('has a schema for every function that has a metric namespace, and no other', () => {
    expect(Object.keys(FUNCTION_ENVIRONMENTS).sort()).toEqual(Object.keys(FUNCTION_NAMESPACES).sort());
  });
});

describe('parseFunctionEnvironment (handlers)', () => {
  it('types the values and applies defaults', () => {
    const env = parseFunctionEnvironment('orchestrator', {
      JOB_QUEUE_ARN: 'q', JOB_DEFINITION_ARN: 'd', INPUT_BUCKET: 'in', INPUT_PREFIX: 'transactions/', PROCESSED_BUCKET: 'out', S3_KMS_KEY_ARN: 'k',
      JOB_STATUS_TABLE: 's', AUDIT_LOG_TABLE: 'a', ALERTS_TOPIC_ARN: 't', ENVIRONMENT: ' ',
    });
    expect(env).toMatchObject({ TRANSACTIONS_PER_JOB: 10_000, BYTES_PER_SHARD: undefined, ENVIRONMENT: 'unknown', INPUT_PREFIX: 'transactions/' });
    expect(parseFunctionEnvironment('report-deliver', {
      ENVIRONMENT: 'dev', SOURCE_EMAIL: 'a@b.c', SES_CONFIGURATION_SET: 'c', RECIPIENTS_JSON: '{"EU":"x@y.z"}', IDEMPOTENCY_TABLE: 'i', ATTACHMENT_MAX_BYTES: '100',
    })).toMatchObject({ RECIPIENTS_JSON: { EU: 'x@y.z' }, ATTACHMENT_MAX_BYTES: 100, DEFAULT_RECIPIENT: undefined, REPORTS_BUCKET: undefined });
  });

  it('names the function and every variable with the rule it broke', () => {
    let message = '';
    try {
      parseFunctionEnvironment('report-deliver', { ENVIRONMENT: 'dev', SOURCE_EMAIL: 'a@b.c', RECIPIENTS_JSON: '{', IDEMPOTENCY_TABLE: 'i', ATTACHMENT_MAX_BYTES: '99999999999' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^report-deliver environment: /);
    expect(message).toContain('environment variable SES_CONFIGURATION_SET is required but not set');
    expect(message).toContain('environment variable RECIPIENTS_JSON must be valid JSON');
    expect(message).toMatch(/environment variable ATTACHMENT_MAX_BYTES must be an integer from 1 to \d+, got "99999999999"/);
  });

  it('refuses integers that are not whole decimal numbers in range', () => {
    const schema = { N: { type: 'integer', min: 1 } } as const;
    for (const raw of ['0', '-1', '1.5', '1e3', '0x10', '12x', '9007199254740993']) {
      expect(() => parseEnvironment(schema, { N: raw })).toThrow(`environment variable N must be an integer >= 1, got "${raw}"`);
    }
    expect(parseEnvironment(schema, { N: ' 42 ' }).N).toBe(42);
  });
});
