/** The closed set of error codes the service raises. */
export type RatesErrorCode =
  | 'RATES_CONFIG'
  | 'RATES_SOURCE_HTTP'
  | 'RATES_SOURCE_NETWORK'
  | 'RATES_SOURCE_TIMEOUT'
  | 'RATES_SOURCE_TOO_LARGE'
  | 'RATES_SOURCE_PARSE'
  | 'RATES_SOURCE_EMPTY'
  | 'RATES_SOURCE_DATE'
  | 'RATES_STORE'
  | 'RATES_NOT_LEADER'
  | 'RATES_NOT_READY'
  | 'RATES_NOT_FOUND'
  | 'RATES_BAD_REQUEST'
  | 'RATES_METHOD_NOT_ALLOWED'
  | 'RATES_INTERNAL'
  | 'RATES_FORBIDDEN'
  | 'RATES_TOO_MANY_CONNECTIONS'
  | 'RATES_RATE_LIMITED'

export interface RatesErrorOptions {
  cause?: unknown
  /** HTTP status an upstream answered with, when the error comes from one. */
  upstreamStatus?: number
}

/** The only error class of the service: a stable code, a message for humans and an HTTP status. */
export class RatesError extends Error {
  readonly code: RatesErrorCode
  readonly statusCode: number
  readonly upstreamStatus: number | undefined

  constructor (code: RatesErrorCode, message: string, statusCode = 500, options: RatesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RatesError'
    this.code = code
    this.statusCode = statusCode
    this.upstreamStatus = options.upstreamStatus
  }
}

export function isRatesError (err: unknown, code?: RatesErrorCode): err is RatesError {
  return err instanceof RatesError && (code === undefined || err.code === code)
}
