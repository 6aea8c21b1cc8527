import { API_ERRORS, BLOCK_REASONS, BlockReasonSchema } from '@countersign/contracts';
import { API_ERROR_EXITS, BLOCK_REASON_EXITS, ExitCode, exitCodeForApiError, exitCodeForBlock } from './exit-codes';

describe('exit codes from the error catalogue', () => {
  it('has an exit for every API error code and every block reason, and no other', () => {
    expect(Object.keys(API_ERROR_EXITS).sort()).toEqual(Object.keys(API_ERRORS).sort());
    expect(Object.keys(BLOCK_REASON_EXITS).sort()).toEqual(Object.keys(BLOCK_REASONS).sort());
  });

  it('exits 2 on a refused token, 1 on any other refusal', () => {
    expect(exitCodeForApiError('UNAUTHENTICATED', 401)).toBe(ExitCode.Usage);
    expect(exitCodeForApiError('ALREADY_RESOLVED', 409)).toBe(ExitCode.Findings);
    expect(exitCodeForApiError('ROLE_NOT_ALLOWED', 403)).toBe(ExitCode.Findings);
    expect(exitCodeForApiError('INVALID_REQUEST', 400)).toBe(ExitCode.Findings);
    expect(exitCodeForApiError('INVALID_GRANT', 400)).toBe(ExitCode.Findings);
  });

  it('lets a command whose exit 1 means something else exit 2 on a refusal', () => {
    expect(exitCodeForApiError('JOB_NOT_FOUND', 404, ExitCode.Usage)).toBe(ExitCode.Usage);
    expect(exitCodeForApiError('UNAUTHENTICATED', 401, ExitCode.Usage)).toBe(ExitCode.Usage);
  });

  it('goes by the status for an answer that is not ours', () => {
    expect(exitCodeForApiError(undefined, 401)).toBe(ExitCode.Usage);
    expect(exitCodeForApiError(undefined, 502)).toBe(ExitCode.Findings);
    expect(exitCodeForApiError('SOMETHING_ELSE', 403)).toBe(ExitCode.Findings);
    expect(exitCodeForApiError('toString', 500)).toBe(ExitCode.Findings);
  });

  it('exits 1 for a blocked job, whatever the reason', () => {
    for (const reason of BlockReasonSchema.options) expect(exitCodeForBlock(reason)).toBe(ExitCode.Findings);
  });
});
