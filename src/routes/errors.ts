import { STATUS_CODES } from 'node:http'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { RatesError } from '../domain/errors.js'
import type { RatesErrorCode } from '../domain/errors.js'

// Every answer that is not a success has the documented body `{ error, message }` with a RATES_* code,
// whoever refused the request: a route, a plugin, the framework's router or body parser, or Node's HTTP parser.

/** The methods the service answers on every route it has: it is read-only. */
const SERVED = new Set(['GET', 'HEAD', 'OPTIONS'])
const ALLOWED_METHODS = [...SERVED].join(', ')

/** The code of a status raised by something other than the service's own code (framework, plugin, parser). */
export function codeOf (status: number): RatesErrorCode {
  switch (status) {
    case 403: return 'RATES_FORBIDDEN'
    case 404: return 'RATES_NOT_FOUND'
    case 405: return 'RATES_METHOD_NOT_ALLOWED'
    case 429: return 'RATES_RATE_LIMITED'
    case 503: return 'RATES_NOT_READY'
    default: return status < 500 ? 'RATES_BAD_REQUEST' : 'RATES_INTERNAL'
  }
}

/** A path as a message may quote it: without the query, and short. */
const pathOf = (url: string): string => (url.split('?')[0] ?? '').slice(0, 200)

/** The one error handler: zod validation, RatesError, then anything else by its status. */
export function errorHandler (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request'
    const message = err.validation.map((v) => `${paramName(v.instancePath, v.params)}: ${v.message ?? 'invalid'}`).join('; ')
    return reply.code(400).send({ error: 'RATES_BAD_REQUEST', message: `${where} ${message}` })
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  if (status === 503) reply.header('retry-after', reply.getHeader('retry-after') ?? '5')
  // a 5xx says nothing of its cause to the client; the log has it
  if (status >= 500 && status !== 503) {
    request.log.error({ err }, 'request failed')
    return reply.code(500).send({ error: err instanceof RatesError ? err.code : 'RATES_INTERNAL', message: 'internal error' })
  }
  const code = err instanceof RatesError ? err.code : codeOf(status)
  return reply.code(status).send({ error: code, message: err.message })
}

/** 404 for an unknown path; 405 with Allow for a method the service does not answer on a path it has. */
export function notFoundHandler (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = pathOf(request.url)
  if (!SERVED.has(request.method) && request.server.findRoute({ method: 'GET', url: request.url }) !== null) {
    return reply.code(405).header('allow', ALLOWED_METHODS)
      .send({ error: 'RATES_METHOD_NOT_ALLOWED', message: `${request.method} is not served on ${path}; use ${ALLOWED_METHODS}` })
  }
  return reply.code(404).send({ error: 'RATES_NOT_FOUND', message: `no route ${request.method} ${path}` })
}

/** Errors the router raises before any route or hook runs: a malformed escape, an over-long parameter. */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400
  request.log.debug({ code: err.code, url: request.url }, 'request refused by the router')
  // an upgrade request's socket has left Node's HTTP server, and no hook runs here to close it after the answer
  if (request.headers.upgrade !== undefined) reply.raw.once('finish', () => { request.raw.socket.destroy() })
  reply.code(status).send({ error: codeOf(status), message: err.code === 'FST_ERR_BAD_URL' ? `malformed URL ${pathOf(request.url)}` : err.message })
}

const PARSER_ANSWERS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request was not received in time'],
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
  HPE_URI_OVERFLOW: [414, 'the request URL is too long']
}

/** What Node's HTTP parser refuses (malformed request line or header, conflicting framing, oversize headers). */
export function clientErrorHandler (this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, message] = PARSER_ANSWERS[err.code ?? ''] ?? [400, 'malformed HTTP request']
  this.log.debug({ code: err.code }, 'malformed request refused')
  // a response already under way on this socket cannot be followed by another
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (socket.writable && current?.headersSent !== true) {
    const body = JSON.stringify({ error: codeOf(status), message })
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

/**
 * Requests that arrive while the instance shuts down (pipelined or on a kept-alive connection) get 503
 * with the documented body, and the connection is closed so that the client goes elsewhere.
 */
export function refuseWhileClosing (app: FastifyInstance): void {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    throw new RatesError('RATES_NOT_READY', 'shutting down; retry on another instance', 503)
  })
}

function paramName (instancePath: string, params: unknown): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.')
  const extra = (params as { issue?: { keys?: string[] } } | undefined)?.issue?.keys
  if (path === '' && Array.isArray(extra) && extra.length > 0) return extra.join(',')
  return path === '' ? 'parameters' : path
}
