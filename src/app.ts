import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify'
import cors from '@fastify/cors'
import websocket from '@fastify/websocket'
import { serializerCompiler } from 'fastify-type-provider-zod'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Dispatcher } from 'undici'
import type { Config } from './config.js'
import accessLog, { loggerOptions } from './plugins/access-log.js'
import ingest from './plugins/ingest.js'
import metrics from './plugins/metrics.js'
import securityHeaders from './plugins/security-headers.js'
import storePlugin from './plugins/store.js'
import hub from './hub/hub.js'
import { refuseStrayUpgrades } from './hub/upgrades.js'
import docs from './routes/docs.js'
import { clientErrorHandler, errorHandler, frameworkErrors, notFoundHandler, refuseWhileClosing } from './routes/errors.js'
import healthRoutes from './routes/health.js'
import { createFastLane, laneServer, trustOf } from './routes/fast-lane.js'
import ratesRoutes from './routes/rates.js'
import { createRestLimit } from './routes/rest-limit.js'
import { rememberingValidatorCompiler } from './routes/validation.js'
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
  const trustProxy = typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy
  // one budget for every /v1 REST route, whatever spelling of the URL the router decoded, and for the fast lane
  const limit = config.rateLimitPerMin > 0 ? createRestLimit({ max: config.rateLimitPerMin, windowMs: 60_000 }) : undefined
  const trust = trustOf(trustProxy)
  const lane = createFastLane({
    ...(limit !== undefined && { limit }),
    ...(trust !== undefined && { trust }),
    observe: (method, route, status, seconds) => { app.metrics.observeRequest(method, route, status, seconds) },
    // the access log's debug line per request is written by the routes
    logsRequests: () => (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? false
  })
  const app = Fastify({
    ...(isLogger(logger) ? { loggerInstance: logger } : { logger }),
    // one line per request from the access-log hook instead, at debug unless it failed or was slow
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 16_384,
    trustProxy,
    serverFactory: laneServer(lane),
    // the framework's own refusals get the documented body too
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    forceCloseConnections: true
  }).withTypeProvider<ZodTypeProvider>()
  await app.register(accessLog, { slowMs: config.slowRequestMs })
  app.setValidatorCompiler(rememberingValidatorCompiler())
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  refuseWhileClosing(app)
  app.addHook('preClose', async () => { lane.close() })

  await app.register(securityHeaders, {
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
    // a bare OPTIONS (no Origin, no requested method) is answered, not refused with a text body
    strictPreflight: false,
    maxAge: 86_400
  })
  await app.register(websocket, {
    options: { maxPayload: config.ws.maxPayload, perMessageDeflate: false, clientTracking: false },
    // a client's protocol error (oversize or malformed frame) is the client's problem, not an incident
    errorHandler (err, socket, request) {
      request.log.debug({ err: err.message }, 'websocket closed on a client protocol error')
      socket.terminate()
    }
  })
  refuseStrayUpgrades(app)
  await app.register(docs)
  await app.register(storePlugin, { store: deps.store })
  await app.register(metrics)
  await app.register(ingest, { config, store: deps.store, sources: deps.sources, ...(deps.dispatcher !== undefined && { dispatcher: deps.dispatcher }), ...(deps.now !== undefined && { now: deps.now }) })
  await app.register(healthRoutes, { sources: app.ingest.health })
  await app.register(ratesRoutes, {
    prefix: '/v1',
    currencies: config.currencies,
    quote: config.quote,
    historyDays: config.historyDays,
    ...(deps.now !== undefined && { now: deps.now }),
    ...(limit !== undefined && { limit: limit.hook }),
    lane
  })
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
