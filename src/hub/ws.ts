import type { RawData, WebSocket } from 'ws'
import type { FastifyBaseLogger } from 'fastify'
import type { HubLimits } from '../domain/limits.js'
import { ClientMessageSchema } from '../domain/messages.js'
import { CLOSE_RESTART, CLOSE_TRY_AGAIN, retryReason } from '../domain/protocol.js'
import type { Snapshot } from '../domain/rate.js'
import type { Fanout, Peer } from './fanout.js'
import { createFrame, filterOf } from './messages.js'
import type { Filter, Frame } from './messages.js'
import { createRateLimiter } from './rate-limiter.js'
import { jitter } from './retry.js'
import { writeFrame } from './ws-write.js'

/** Invalid or over-rate client messages tolerated on one connection; the next one closes it with 1008. */
export const MAX_STRIKES = 5

export interface WsPeer extends Peer {
  /** Terminates a client that did not answer the previous ping, else pings it. */
  ping: () => void
  /** Closes with 1012 and the retry hint; resolves once the socket is closed. */
  shutdown: (retryMs: number) => Promise<void>
  terminate: () => void
}

export interface WsPeerContext {
  fanout: Fanout
  limits: HubLimits
  currencies: ReadonlySet<string>
  snapshot: () => Snapshot | undefined
  dropped: (reason: string) => void
  sent: (type: Frame['type']) => void
  log: FastifyBaseLogger
  /** Called once when the socket has closed, after the peer left the fan-out. */
  gone: (peer: WsPeer) => void
  /** Frees a connection slot of `ip` (see attachWsPeer). */
  release: (ip: string) => void
}

/** What one connection holds: its state and the socket, with methods and listeners shared by every peer. */
interface WsPeerState extends WsPeer {
  readonly socket: WebSocket
  readonly ctx: WsPeerContext
  /** The address whose slot the peer frees on close; undefined when the slot is freed elsewhere. */
  readonly ip: string | undefined
  alive: boolean
  strikes: number
  // from a client's first message on: most widgets never send one
  limiter: ReturnType<typeof createRateLimiter> | undefined
  // from shutdown on
  onClosed: (() => void) | undefined
}

// what a connection holds is multiplied by tens of thousands of mostly silent widgets: one object per
// peer, found from its socket, instead of a set of closures (and their contexts) per connection
const PEER = Symbol('peer')
type Owned = WebSocket & { [PEER]: WsPeerState }
const peerOf = (socket: WebSocket): WsPeerState => (socket as Owned)[PEER]

/**
 * Wires one upgraded socket to the fan-out; the peer leaves it when the socket closes. With `ip`, the
 * peer also frees that address's connection slot (`ctx.release`) when the socket closes.
 */
export function attachWsPeer (socket: WebSocket, filter: Filter, since: number | undefined, ctx: WsPeerContext, ip?: string): WsPeer {
  const peer: WsPeerState = {
    transport: 'ws', filter, socket, ctx, ip, alive: true, strikes: 0, limiter: undefined, onClosed: undefined, deliver, ping, shutdown, terminate
  }
  ;(socket as Owned)[PEER] = peer
  socket.on('pong', onPong)
  socket.on('message', onMessage)
  socket.on('error', onError)
  socket.on('close', onClose)
  ctx.fanout.add(peer)
  send(peer, ctx.fanout.greeting(ctx.snapshot(), filter, since))
  return peer
}

function deliver (this: WsPeerState, frame: Frame): boolean {
  const { socket } = this
  if (socket.readyState !== socket.OPEN) return false
  const bytes = frame.wsFrame()
  const queued = socket.bufferedAmount
  // an empty queue always takes the frame, so one frame above the limit is still deliverable
  if (queued > 0 && queued + bytes.length > this.ctx.limits.maxBufferedBytes) {
    // a reader that fell this far behind would only be served stale data; it resumes with `since`
    this.ctx.dropped('slow_consumer')
    socket.close(CLOSE_TRY_AGAIN, retryReason('slow consumer', jitter(1000, 10_000)))
    return false
  }
  writeFrame(socket, bytes, frame.ws())
  return true
}

function ping (this: WsPeerState): void {
  const { socket } = this
  if (!this.alive) {
    this.ctx.dropped('ping_timeout')
    socket.terminate()
    return
  }
  this.alive = false
  if (socket.readyState === socket.OPEN) socket.ping()
}

async function shutdown (this: WsPeerState, retryMs: number): Promise<void> {
  const { socket } = this
  if (socket.readyState === socket.CLOSED) return
  const closed = new Promise<void>((resolve) => { this.onClosed = resolve })
  if (socket.readyState === socket.OPEN) socket.close(CLOSE_RESTART, retryReason('restart', retryMs))
  await closed
}

function terminate (this: WsPeerState): void { this.socket.terminate() }

function send (peer: WsPeerState, frame: Frame): void {
  if (peer.deliver(frame)) peer.ctx.sent(frame.type)
}

function strike (peer: WsPeerState, code: string, message: string): void {
  peer.strikes++
  if (peer.strikes >= MAX_STRIKES) {
    peer.socket.close(1008, `${code}: too many invalid messages`)
    return
  }
  send(peer, createFrame({ type: 'error', code, message }))
}

function onPong (this: WebSocket): void { peerOf(this).alive = true }

function onMessage (this: WebSocket, data: RawData, isBinary: boolean): void {
  const peer = peerOf(this)
  const { ctx } = peer
  const { limits } = ctx
  if (!(peer.limiter ??= createRateLimiter(limits.maxMessagesPerSec)).take()) {
    strike(peer, 'rate_limited', `at most ${limits.maxMessagesPerSec} messages per second`)
    return
  }
  if (isBinary) {
    strike(peer, 'bad_message', 'expected a JSON text frame')
    return
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(String(data))
  } catch {
    strike(peer, 'bad_json', 'expected a JSON text frame')
    return
  }
  const result = ClientMessageSchema.safeParse(parsed)
  if (!result.success) {
    strike(peer, 'bad_message', result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'message'}: ${i.message}`).join('; '))
    return
  }
  const unknown = result.data.symbols.filter((s) => !ctx.currencies.has(s))
  if (unknown.length > 0) {
    strike(peer, 'unknown_symbol', `symbols: unknown currency ${unknown.join(',')}; expected some of ${[...ctx.currencies].join(',')}`)
    return
  }
  const next = filterOf(result.data.symbols)
  ctx.fanout.move(peer, next)
  send(peer, ctx.fanout.greeting(ctx.snapshot(), next, undefined))
}

function onError (this: WebSocket, err: Error): void {
  peerOf(this).ctx.log.debug({ err: err.message }, 'websocket error')
  this.terminate()
}

function onClose (this: WebSocket): void {
  const peer = peerOf(this)
  const { ctx } = peer
  ctx.fanout.remove(peer)
  if (peer.ip !== undefined) ctx.release(peer.ip)
  ctx.gone(peer)
  peer.onClosed?.()
}
