import fp from 'fastify-plugin'
import type { FastifyBaseLogger } from 'fastify'
import type { Logger, LoggerOptions } from 'pino'

/** The service's pino options: level names as words (`"level":"info"`), not pino's numbers. */
export function loggerOptions (level: string): LoggerOptions {
  return { level, formatters: { level: (label) => ({ level: label }) } }
}

/** Whether a line at `level` would be written; a logger that cannot say gets every line. */
const enabled = (log: FastifyBaseLogger, level: string): boolean => (log as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled?.(level) ?? true

export interface AccessLogOptions {
  /** A request that took at least this long is logged at warn. */
  slowMs: number
}

/**
 * One access line per request, at a level that says whether it needs reading: a 5xx at error, a slow
 * request at warn, everything else (probes, scrapes, cache hits) at debug, so an idle, probed service
 * stays quiet at info. Used with the LogController's `disableRequestLogging`. A 503 is the service saying "not yet" or
 * "draining": the state behind it is logged when it changes, not on every probe. Hijacked streams (SSE)
 * and upgraded WebSockets end without an onResponse, so their lifetime is never taken for slowness.
 */
export default fp<AccessLogOptions>(async (fastify, { slowMs }) => {
  // a thrown 5xx is logged at error by the app's error handler, with its stack: one line per failure, not two
  const handled = new WeakSet<object>()
  fastify.addHook('onError', (request, _reply, _error, done) => { handled.add(request); done() })
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode
    const ms = reply.elapsedTime
    const failed = status >= 500 && status !== 503 && !handled.has(request)
    const level = failed ? 'error' : ms >= slowMs ? 'warn' : 'debug'
    // the line is only put together when it will be written: at info, a served request costs a level check
    if (!enabled(request.log, level)) { done(); return }
    request.log[level]({
      method: request.method,
      url: request.url,
      remoteAddress: request.ip,
      route: request.routeOptions.url ?? null,
      statusCode: status,
      responseTimeMs: Math.round(ms * 10) / 10,
      ...(ms >= slowMs && { slow: true })
    }, 'request completed')
    done()
  })
}, { name: 'access-log', fastify: '5.x' })
