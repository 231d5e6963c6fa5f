import { BadInputError, classifyError, InterruptedError, RetryableError } from '../../processor/src/errors';

const sdkError = (name: string, status?: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe('classifyError (exit codes the job definition retries on)', () => {
  it.each(([
    [sdkError('ThrottlingException', 400), 75],
    [sdkError('ProvisionedThroughputExceededException', 400), 75],
    [sdkError('SlowDown', 503), 75],
    [sdkError('InternalError', 500), 75],
    [sdkError('Whatever', 502), 75],
    [sdkError('TooManyRequests', 429), 75],
    [sdkError('PreconditionFailed', 412), 75], // object replaced during the read
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 75],
    [new Error('AWS SDK error wrapper for Error: connect ETIMEDOUT 10.0.0.1:443'), 75],
    [sdkError('NoSuchKey', 404), 2],
    [sdkError('NotFound', 404), 2],
    [sdkError('AccessDenied', 403), 2],
    [sdkError('KMS.NotFoundException', 400), 2],
    [sdkError('AbortError'), 143],
    [new TypeError('cannot read properties of undefined'), 1],
  ] as [Error, number][]).map(([err, code]) => [err.message, code, err] as const))('%s -> exit %i', (_label, exitCode, err) => {
    expect(classifyError(err, 'ctx').exitCode).toBe(exitCode);
  });

  it('keeps processor errors as they are and names the context and code in the message', () => {
    const bad = new BadInputError('X', 'y');
    expect(classifyError(bad, 'ctx')).toBe(bad);
    const e = classifyError(sdkError('AccessDenied', 403), 'GetObject s3://b/k');
    expect(e).toBeInstanceOf(BadInputError);
    expect(e).toMatchObject({ code: 'ACCESS_DENIED' });
    expect(e.message).toBe('GetObject s3://b/k: AccessDenied (HTTP 403): AccessDenied happened');
    expect(classifyError(sdkError('NoSuchKey', 404), 'c').code).toBe('INPUT_NOT_FOUND');
    expect(classifyError(sdkError('SlowDown', 503), 'c')).toBeInstanceOf(RetryableError);
    expect(classifyError(sdkError('AbortError'), 'c')).toBeInstanceOf(InterruptedError);
  });
});
