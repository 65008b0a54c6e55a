import Fastify from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import websocket from '@fastify/websocket'
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Dispatcher } from 'undici'
import type { Config } from './config.js'
import { RatesError } from './domain/errors.js'
import accessLog, { loggerOptions } from './plugins/access-log.js'
import docs from './plugins/docs.js'
import ingest from './plugins/ingest.js'
import metrics from './plugins/metrics.js'
import storePlugin from './plugins/store.js'
import hub from './hub/hub.js'
import asyncApiRoutes from './routes/asyncapi.js'
import healthRoutes from './routes/health.js'
import ratesRoutes from './routes/rates.js'
import widgetRoutes from './routes/widget.js'
import type { Source } from './sources/source.js'
import type { Store } from './store/store.js'

export interface AppDeps {
  config: Config
  /** Owned by the app from here on: closed with it. */
  store: Store
  /** The upstream adapters to poll; none on an instance that only serves. */
  sources: Source[]
  /** Owned by the app from here on: closed with it. */
  dispatcher?: Dispatcher
  logger?: FastifyServerOptions['logger'] | FastifyBaseLogger
  now?: () => Date
}

/** Builds the service: Fastify, zod compilers, plugins and routes in order. Never listens. */
export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const logger = deps.logger ?? loggerOptions(config.logLevel)
  const app = Fastify({
    ...(isLogger(logger) ? { loggerInstance: logger } : { logger }),
    // one line per request from the access-log hook instead, at debug unless it failed or was slow
    disableRequestLogging: true,
    bodyLimit: 16_384,
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: true
  }).withTypeProvider<ZodTypeProvider>()
  await app.register(accessLog, { slowMs: config.slowRequestMs })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler((err, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request'
      const message = err.validation.map((v) => `${paramName(v.instancePath, v.params)}: ${v.message ?? 'invalid'}`).join('; ')
      return reply.code(400).send({ error: 'RATES_BAD_REQUEST', message: `${where} ${message}` })
    }
    if (err instanceof RatesError) {
      if (err.statusCode === 503) reply.header('retry-after', '5')
      if (err.statusCode >= 500 && err.statusCode !== 503) request.log.error({ err }, 'request failed')
      return reply.code(err.statusCode).send({ error: err.code, message: err.statusCode >= 500 && err.statusCode !== 503 ? 'internal error' : err.message })
    }
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500
    if (status < 500) return reply.code(status).send({ error: (err as { code?: string }).code ?? 'RATES_BAD_REQUEST', message: (err as Error).message })
    request.log.error({ err }, 'request failed')
    return reply.code(500).send({ error: 'RATES_INTERNAL', message: 'internal error' })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'RATES_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` })
  })

  await app.register(helmet, {
    // the widget script and its data are meant to be embedded by other sites
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    // no upgrade-insecure-requests: on plain HTTP (the demo, a host name inside a cluster) it sends the
    // browser to https:// for /widget.js, which nothing serves
    contentSecurityPolicy: { directives: { 'connect-src': ["'self'", 'ws:', 'wss:'], 'upgrade-insecure-requests': null } }
  })
  await app.register(cors, {
    origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
    methods: ['GET', 'HEAD', 'OPTIONS'],
    exposedHeaders: ['ETag', 'Retry-After'],
    maxAge: 86_400
  })
  if (config.rateLimitPerMin > 0) {
    await app.register(rateLimit, {
      max: config.rateLimitPerMin,
      timeWindow: 60_000,
      // the REST API only: health, metrics and the widget stay reachable, push streams have their own limits
      allowList: (request) => !request.url.startsWith('/v1/') || /^\/v1\/(ws|stream)\b/.test(request.url),
      errorResponseBuilder: (_request, context) => ({
        statusCode: context.statusCode,
        code: 'RATES_RATE_LIMITED',
        message: `more than ${context.max} requests a minute from this address; retry in ${context.after}`
      })
    })
  }
  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayload, perMessageDeflate: false, clientTracking: false },
    // a client's protocol error (oversize or malformed frame) is the client's problem, not an incident
    errorHandler (err, socket, request) {
      request.log.debug({ err: err.message }, 'websocket closed on a client protocol error')
      socket.terminate()
    }
  })
  await app.register(docs)
  await app.register(storePlugin, { store: deps.store })
  await app.register(metrics)
  await app.register(ingest, { config, sources: deps.sources, ...(deps.dispatcher !== undefined && { dispatcher: deps.dispatcher }), ...(deps.now !== undefined && { now: deps.now }) })
  await app.register(healthRoutes, { sources: () => app.ingest.poller?.health() ?? [] })
  await app.register(ratesRoutes, { prefix: '/v1', currencies: config.currencies, quote: config.quote })
  await app.register(asyncApiRoutes)
  await app.register(widgetRoutes)
  await app.register(hub, {
    prefix: '/v1',
    currencies: config.currencies,
    corsOrigins: config.corsOrigins,
    ws: config.ws,
    shutdownRetryMs: config.shutdownRetryMs,
    ...(deps.now !== undefined && { now: deps.now })
  })
  return app
}

/** Trusts the first `hops` proxies in front of the service. */
function trustHops (hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops
}

function isLogger (logger: unknown): logger is FastifyBaseLogger {
  return typeof logger === 'object' && logger !== null && typeof (logger as FastifyBaseLogger).child === 'function'
}

function paramName (instancePath: string, params: unknown): string {
  const path = instancePath.replace(/^\//, '').replace(/\//g, '.')
  const extra = (params as { issue?: { keys?: string[] } } | undefined)?.issue?.keys
  if (path === '' && Array.isArray(extra) && extra.length > 0) return extra.join(',')
  return path === '' ? 'parameters' : path
}
