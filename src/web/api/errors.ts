/**
 * API errors with Prometheus's `errorType` values and HTTP status codes, and the one place
 * where errors from other subsystems are classified (`toApiError`).
 */

export type ErrorType = 'timeout' | 'canceled' | 'execution' | 'bad_data' | 'internal' | 'unavailable' | 'not_found' | 'not_acceptable';

const STATUS: Record<ErrorType, number> = {
  bad_data: 400,
  execution: 422,
  // Prometheus's statusClientClosedConnection: the client went away.
  canceled: 499,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
  not_acceptable: 406,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly errorType: ErrorType;
  readonly status: number;
  constructor(errorType: ErrorType, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.errorType = errorType;
    this.status = options?.status ?? STATUS[errorType];
  }
  static badData(message: string, options?: ErrorOptions): ApiError {
    return new ApiError('bad_data', message, options);
  }
  static execution(message: string, options?: ErrorOptions): ApiError {
    return new ApiError('execution', message, options);
  }
  static internal(message: string, options?: ErrorOptions): ApiError {
    return new ApiError('internal', message, options);
  }
  static unavailable(message: string, options?: ErrorOptions): ApiError {
    return new ApiError('unavailable', message, options);
  }
}

/** The `status: "error"` envelope Prometheus returns. */
export function errorBody(err: ApiError, warnings?: readonly string[], infos?: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { status: 'error', errorType: err.errorType, error: err.message };
  if (warnings && warnings.length > 0) body.warnings = warnings;
  if (infos && infos.length > 0) body.infos = infos;
  return body;
}
