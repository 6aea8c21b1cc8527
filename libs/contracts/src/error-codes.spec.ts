import { BlockReasonSchema } from './common';
import {
  API_ERRORS,
  BLOCK_REASONS,
  httpStatusOf,
  wireCodeOf,
  type ApiErrorCode,
  type ApiErrorSpec,
} from './error-codes';
import { CodedError, invalidRequest } from './errors';

const codes = Object.keys(API_ERRORS) as ApiErrorCode[];

describe('API_ERRORS', () => {
  it('gives every code an error status (or the framework pass-through) and a one-line meaning', () => {
    for (const code of codes) {
      const status = httpStatusOf(code);
      expect([code, status === null || (status >= 400 && status < 600)]).toEqual([code, true]);
      expect(API_ERRORS[code].meaning).toMatch(/^[^\n]{10,}$/);
    }
  });

  it('sends a code under another name only when that name is a code with another status', () => {
    for (const code of codes) {
      const sentAs = (API_ERRORS[code] as ApiErrorSpec).sentAs;
      if (sentAs === undefined) {
        expect(wireCodeOf(code)).toBe(code);
        continue;
      }
      expect(codes).toContain(sentAs);
      expect(httpStatusOf(sentAs as ApiErrorCode)).not.toBe(httpStatusOf(code));
    }
    expect([wireCodeOf('GRANT_MALFORMED'), httpStatusOf('GRANT_MALFORMED')]).toEqual(['INVALID_GRANT', 400]);
  });
});

describe('BLOCK_REASONS', () => {
  it('describes exactly the reason codes job.blocked carries', () => {
    expect(Object.keys(BLOCK_REASONS).sort()).toEqual([...BlockReasonSchema.options].sort());
  });
});

describe('CodedError', () => {
  it('carries a code, a message and details, no status', () => {
    const e = new CodedError('JOB_NOT_FOUND', 'no job j1', { job_id: 'j1' });
    expect(e).toMatchObject({
      name: 'CodedError',
      code: 'JOB_NOT_FOUND',
      message: 'no job j1',
      details: { job_id: 'j1' },
    });
    expect(e).not.toHaveProperty('status');
  });

  it('names the field of an invalid request first, then any other details', () => {
    const e = invalidRequest('to', 'to: not a time', { issues: [] });
    expect(e.code).toBe('INVALID_REQUEST');
    expect(Object.keys(e.details)).toEqual(['field', 'issues']);
  });
});
