import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { CodedError, httpStatusOf, wireCodeOf, type ApiErrorCode } from '@countersign/contracts';
import type { Response } from 'express';

/** The code for an error the framework or the body parser raised with only a status. */
const FRAMEWORK_CODES: readonly ApiErrorCode[] = [
  'INVALID_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];
const codeForStatus = new Map<number | null, ApiErrorCode>(FRAMEWORK_CODES.map((c) => [httpStatusOf(c), c]));

/**
 * An error the body parser raises before Nest sees the request (http-errors: a 4xx `status` and
 * `expose: true`): too large, unsupported charset or encoding, unreadable body.
 */
interface ClientHttpError {
  status: number;
  expose: true;
  message: string;
  type?: string;
  length?: number;
  limit?: number;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Partial<ClientHttpError>;
  return e.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500;
}

function clientMessage(error: ClientHttpError): string {
  if (error.type === 'entity.too.large' && typeof error.limit === 'number') {
    const size = typeof error.length === 'number' ? `request body is ${error.length} bytes, ` : 'request body is ';
    return `${size}over the ${error.limit}-byte limit (MAX_BODY_BYTES)`;
  }
  return error.message;
}

/**
 * Maps coded errors to JSON answers; a client never sees a stack trace. The one place a code
 * becomes an HTTP status: from the catalogue (`API_ERRORS` in libs/contracts).
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof CodedError) {
      res
        .status(httpStatusOf(error.code) ?? 500)
        .json({ error: { code: wireCodeOf(error.code), message: error.message, ...error.details } });
      return;
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? error.message);
      res.status(status).json({
        error: {
          code: codeForStatus.get(status) ?? 'HTTP_ERROR',
          message: Array.isArray(message) ? message.join('; ') : String(message),
        },
      });
      return;
    }
    if (isClientHttpError(error)) {
      res
        .status(error.status)
        .json({ error: { code: codeForStatus.get(error.status) ?? 'INVALID_REQUEST', message: clientMessage(error) } });
      return;
    }
    this.logger.error(error instanceof Error ? error.stack : String(error));
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
  }
}
