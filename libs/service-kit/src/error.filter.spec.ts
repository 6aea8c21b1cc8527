import { CodedError } from '@countersign/contracts';
import { BadRequestException, HttpException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { ErrorFilter } from './error.filter';

function answer(error: unknown): { status: number; body: unknown } {
  const out = { status: 0, body: undefined as unknown };
  const res = {
    status(code: number) {
      out.status = code;
      return res;
    },
    json(body: unknown) {
      out.body = body;
      return res;
    },
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new ErrorFilter().catch(error, host);
  return out;
}

describe('ErrorFilter', () => {
  it.each([
    ['NOT_FOUND', 404],
    ['UNAUTHENTICATED', 401],
    ['ROLE_NOT_ALLOWED', 403],
    ['TENANT_NOT_ALLOWED', 403],
    ['SELF_APPROVAL', 403],
    ['ALREADY_RESOLVED', 409],
    ['PROPOSAL_PENDING', 409],
    ['JOB_NOT_FOUND', 404],
    ['INVALID_GRANT', 403],
    ['NOT_RELEASED', 409],
  ] as const)('answers %s with %d from the catalogue', (code, status) => {
    expect(answer(new CodedError(code, 'why'))).toEqual({ status, body: { error: { code, message: 'why' } } });
  });

  it('merges details into the error object', () => {
    expect(answer(new CodedError('INVALID_REQUEST', 'to: bad', { field: 'to' }))).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: 'to: bad', field: 'to' } },
    });
  });

  it('sends a malformed grant as INVALID_GRANT with 400, as before the catalogue', () => {
    expect(answer(new CodedError('GRANT_MALFORMED', 'grant is not a job.released event'))).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_GRANT', message: 'grant is not a job.released event' } },
    });
  });

  it('names framework errors by their status, passing other statuses through as HTTP_ERROR', () => {
    expect(answer(new NotFoundException('Cannot GET /nope'))).toEqual({
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: 'Cannot GET /nope' } },
    });
    expect(answer(new BadRequestException(['a', 'b']))).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_REQUEST', message: 'a; b' } },
    });
    expect(answer(new HttpException('slow down', 429))).toEqual({
      status: 429,
      body: { error: { code: 'HTTP_ERROR', message: 'slow down' } },
    });
  });

  it("answers the body parser's own errors with their status", () => {
    const tooLarge = Object.assign(new Error('request entity too large'), {
      status: 413,
      expose: true,
      type: 'entity.too.large',
      length: 2048,
      limit: 1024,
    });
    expect(answer(tooLarge)).toEqual({
      status: 413,
      body: {
        error: {
          code: 'PAYLOAD_TOO_LARGE',
          message: 'request body is 2048 bytes, over the 1024-byte limit (MAX_BODY_BYTES)',
        },
      },
    });
  });

  it('hides anything else behind a 500 INTERNAL', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const r = answer(new Error('db password is hunter2'));
    expect(r).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    expect(logged).toHaveBeenCalledTimes(1);
    logged.mockRestore();
  });
});
