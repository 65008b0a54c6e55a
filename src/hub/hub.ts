import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { bodiless, documented, pushRefusals, refusal } from '../domain/responses.js'
import type { HubLimits } from '../domain/limits.js'
import { StreamQuerySchema } from '../domain/messages.js'
import type { StreamQuery } from '../domain/messages.js'
import { createConnectionCounter, originAllowed } from './admission.js'
import type { Refusal } from './admission.js'
import { createFanout } from './fanout.js'
import { installLeanUpgrades } from './lean-upgrade.js'
import { filterOf } from './messages.js'
import { shutdownHint } from './retry.js'
import { SSE_HEADERS, openSsePeer, resumeFrom } from './sse.js'
import type { SsePeer } from './sse.js'
import { attachWsPeer } from './ws.js'
import type { WsPeer } from './ws.js'

export interface HubOptions {
  currencies: readonly string[]
  /** CORS_ORIGINS: `*`, or the page origins allowed to open a stream. */
  corsOrigins: readonly string[]
  ws: HubLimits
  /** Upper bound of the jittered reconnect hint sent on shutdown. */
  shutdownRetryMs: number
  /** How long shutdown waits for clients to acknowledge the close before cutting them off. */
  closeGraceMs?: number
  now?: () => Date
}

type Streamer = WsPeer | SsePeer

/** /v1/ws and /v1/stream: pushes this instance's store publishes to its own WebSocket and SSE clients. */
const hub: FastifyPluginAsyncZod<HubOptions> = async (fastify, opts) => {
  const { ws: limits } = opts
  const now = opts.now ?? (() => new Date())
  const currencies = new Set(opts.currencies)
  const { metrics, store } = fastify
  const counter = createConnectionCounter(limits)
  const fanout = createFanout({
    now,
    sent: (transport, type, count) => { metrics.messagesSent.inc({ transport, type }, count) }
  })
  const streamers = new Set<Streamer>()
  let closing = false

  const track = (peer: Streamer): void => {
    streamers.add(peer)
    metrics.clients.inc({ transport: peer.transport })
  }
  const untrack = (peer: Streamer): void => {
    if (!streamers.delete(peer)) return
    metrics.clients.dec({ transport: peer.transport })
  }

  // refusals happen before the upgrade, as plain HTTP answers a browser or a proxy can log. Only a request
  // that becomes a stream takes a slot: a HEAD or a GET /v1/ws without upgrade hears what a stream would,
  // at once, and holds nothing.
  const guard = (opens: (request: FastifyRequest) => boolean) => async (request: FastifyRequest<{ Querystring: StreamQuery }>, reply: FastifyReply): Promise<void> => {
    if (closing) throw new RatesError('RATES_NOT_READY', 'shutting down; retry on another instance', 503)
    if (!originAllowed(request.headers.origin, request.headers.host, opts.corsOrigins)) {
      return await reply.code(403).send({ error: 'RATES_FORBIDDEN', message: `origin ${request.headers.origin ?? ''} is not allowed to open a stream` })
    }
    const unknown = (request.query.symbols ?? []).filter((s) => !currencies.has(s))
    if (unknown.length > 0) {
      throw new RatesError('RATES_BAD_REQUEST', `symbols: unknown currency ${unknown.join(',')}; expected some of ${opts.currencies.join(',')}`, 400)
    }
    const refused = opens(request) ? admit(request, reply) : counter.refusal(request.ip)
    if (refused !== undefined) {
      return await reply.code(refused.statusCode).header('retry-after', '30').send({ error: 'RATES_TOO_MANY_CONNECTIONS', message: refused.message })
    }
  }
  const admit = (request: FastifyRequest, reply: FastifyReply): Refusal | undefined => {
    const admission = counter.admit(request.ip)
    if (!admission.ok) return admission
    // an upgraded socket, or the response of a stream, ends on every path out: either frees the slot
    // `on`, not `once`: release is idempotent, and a once-wrapper costs memory for the socket's whole life
    if (request.ws) request.raw.socket.on('close', admission.release)
    else reply.raw.on('close', admission.release)
    return undefined
  }

  const dropped = (transport: 'ws' | 'sse') => (reason: string): void => { metrics.messagesDropped.inc({ transport, reason }) }
  const sent = (transport: 'ws' | 'sse') => (type: string): void => { metrics.messagesSent.inc({ transport, type }) }
  // one context for every socket: nothing in it is per connection
  const wsContext = { fanout, limits, currencies, snapshot: store.snapshot, dropped: dropped('ws'), sent: sent('ws'), log: fastify.log, gone: untrack, release: counter.release }

  fastify.route({
    method: 'GET',
    url: '/ws',
    schema: {
      operationId: 'openWebSocket',
      tags: ['push'],
      summary: 'WebSocket: a snapshot on connect, then updates and heartbeats (messages in /asyncapi.json)',
      querystring: StreamQuerySchema,
      response: {
        101: bodiless('Switching Protocols: JSON text frames follow, the first a snapshot (or an update after `since`)'),
        ...pushRefusals,
        426: refusal('Not a WebSocket upgrade; use /v1/stream for Server-Sent Events (RATES_BAD_REQUEST)', { Upgrade: { type: 'string', description: 'websocket' } })
      }
    },
    preHandler: guard((request) => request.ws && request.method === 'GET'),
    handler: async (_request, reply) => {
      return await reply.code(426).header('upgrade', 'websocket').send({ error: 'RATES_BAD_REQUEST', message: 'expected a WebSocket upgrade; use /v1/stream for Server-Sent Events' })
    },
    wsHandler: (socket, request) => {
      const query = request.query
      const theirs = socket.listeners('error')
      const peer = attachWsPeer(socket, filterOf(query.symbols), query.since, wsContext)
      release(socket, request.raw.socket, theirs)
      track(peer)
    }
  })

  fastify.get('/stream', {
    schema: {
      operationId: 'openEventStream',
      tags: ['push'],
      summary: 'Server-Sent Events: the WebSocket messages, `id:` = seq; Last-Event-ID resumes',
      querystring: StreamQuerySchema,
      response: {
        200: documented('`event:` snapshot, update or heartbeat; `data:` the JSON message (see /asyncapi.json)', z.string(), { mediaType: 'text/event-stream' }),
        ...pushRefusals
      }
    },
    preHandler: guard((request) => request.method === 'GET')
  }, async (request, reply) => {
    if (request.method === 'HEAD') return await reply.headers(SSE_HEADERS).send('')
    const since = resumeFrom(request.headers['last-event-id'], request.query.since)
    const peer = openSsePeer(reply, filterOf(request.query.symbols), since, {
      fanout, maxBufferedBytes: limits.maxBufferedBytes, snapshot: store.snapshot, dropped: dropped('sse'), sent: sent('sse')
    })
    track(peer)
    reply.raw.once('close', () => { untrack(peer) })
  })

  const removeLean = installLeanUpgrades(fastify.server, {
    path: `${fastify.prefix}/ws`,
    currencies,
    corsOrigins: opts.corsOrigins,
    counter,
    wss: fastify.websocketServer,
    accepting: () => !closing,
    attach: (socket, { symbols, since }, ip) => { track(attachWsPeer(socket, filterOf(symbols), since, wsContext, ip)) }
  })

  const unsubscribe = store.subscribe((snapshot, previous) => { fanout.publish(snapshot, previous) })
  const heartbeat = setInterval(() => { fanout.heartbeat(store.snapshot()) }, limits.heartbeatMs)
  const ping = setInterval(() => {
    for (const peer of streamers) if ('ping' in peer) peer.ping()
  }, limits.pingMs)
  heartbeat.unref()
  ping.unref()

  const stop = (): void => {
    closing = true
    // as @fastify/websocket does with its own listener: from now on an upgrade request is a plain request,
    // refused by the app like any other while it closes
    removeLean()
    unsubscribe()
    clearInterval(heartbeat)
    clearInterval(ping)
  }

  // before the server stops listening: upgraded and hijacked sockets would otherwise hold close() open
  fastify.addHook('preClose', async () => {
    stop()
    const all = [...streamers]
    if (all.length === 0) return
    fastify.log.info({ clients: all.length }, 'closing push clients for shutdown')
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, opts.closeGraceMs ?? 2000) })
    await Promise.race([Promise.all(all.map(async (peer) => await peer.shutdown(shutdownHint(opts.shutdownRetryMs)))), grace])
    clearTimeout(timer)
    for (const peer of streamers) peer.terminate()
  })
  fastify.addHook('onClose', async () => { stop() })
}

/**
 * Lets the upgrade's request and response be collected while the socket lives: @fastify/websocket's
 * socket error listener closes over them, and the raw socket still points at the upgrade's response.
 * That is several kilobytes per connection, times tens of thousands of widgets. The peer installs its
 * own error listener; a socket error ends the connection either way.
 */
function release (socket: WebSocket, raw: Socket, listeners: Function[]): void {
  // removed after the peer's own listener was added: deleting the last listener of an event would turn
  // the socket's listener table into a slower, larger dictionary
  for (const listener of listeners) socket.removeListener('error', listener as (...args: unknown[]) => void)
  const upgrade = (raw as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  upgrade?.detachSocket(raw)
}

export default hub
