import type { WebSocket } from 'ws'
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
}

/** Wires one upgraded socket to the fan-out; the peer leaves it when the socket closes. */
export function attachWsPeer (socket: WebSocket, filter: Filter, since: number | undefined, ctx: WsPeerContext): WsPeer {
  const { fanout, limits } = ctx
  // what a connection holds is multiplied by tens of thousands of mostly silent widgets: the limiter
  // exists from a client's first message on, and the close wait from shutdown on
  let limiter: ReturnType<typeof createRateLimiter> | undefined
  let strikes = 0
  let alive = true
  let onClosed: (() => void) | undefined

  const peer: WsPeer = {
    transport: 'ws',
    filter,
    deliver (frame: Frame): boolean {
      if (socket.readyState !== socket.OPEN) return false
      const bytes = frame.wsFrame()
      const queued = socket.bufferedAmount
      // an empty queue always takes the frame, so one frame above the limit is still deliverable
      if (queued > 0 && queued + bytes.length > limits.maxBufferedBytes) {
        // a reader that fell this far behind would only be served stale data; it resumes with `since`
        ctx.dropped('slow_consumer')
        socket.close(CLOSE_TRY_AGAIN, retryReason('slow consumer', jitter(1000, 10_000)))
        return false
      }
      writeFrame(socket, bytes, frame.ws())
      return true
    },
    ping () {
      if (!alive) {
        ctx.dropped('ping_timeout')
        socket.terminate()
        return
      }
      alive = false
      if (socket.readyState === socket.OPEN) socket.ping()
    },
    async shutdown (retryMs) {
      if (socket.readyState === socket.CLOSED) return
      const closed = new Promise<void>((resolve) => { onClosed = resolve })
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_RESTART, retryReason('restart', retryMs))
      await closed
    },
    terminate () { socket.terminate() }
  }

  // methods rather than arrow functions held in variables: a loader that keeps function names (tsx does)
  // gives each such closure its own property table, a few hundred bytes per connection
  const own = {
    strike (code: string, message: string): void {
      strikes++
      if (strikes >= MAX_STRIKES) {
        socket.close(1008, `${code}: too many invalid messages`)
        return
      }
      own.send(createFrame({ type: 'error', code, message }))
    },
    send (frame: Frame): void { if (peer.deliver(frame)) ctx.sent(frame.type) }
  }
  const { strike, send } = own

  socket.on('pong', () => { alive = true })
  socket.on('message', (data, isBinary) => {
    if (!(limiter ??= createRateLimiter(limits.maxMessagesPerSec)).take()) return strike('rate_limited', `at most ${limits.maxMessagesPerSec} messages per second`)
    if (isBinary) return strike('bad_message', 'expected a JSON text frame')
    let parsed: unknown
    try {
      parsed = JSON.parse(String(data))
    } catch {
      return strike('bad_json', 'expected a JSON text frame')
    }
    const result = ClientMessageSchema.safeParse(parsed)
    if (!result.success) {
      return strike('bad_message', result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'message'}: ${i.message}`).join('; '))
    }
    const unknown = result.data.symbols.filter((s) => !ctx.currencies.has(s))
    if (unknown.length > 0) {
      return strike('unknown_symbol', `symbols: unknown currency ${unknown.join(',')}; expected some of ${[...ctx.currencies].join(',')}`)
    }
    const next = filterOf(result.data.symbols)
    fanout.move(peer, next)
    send(fanout.greeting(ctx.snapshot(), next, undefined))
  })
  socket.on('error', (err) => {
    ctx.log.debug({ err: err.message }, 'websocket error')
    socket.terminate()
  })
  socket.on('close', () => {
    fanout.remove(peer)
    ctx.gone(peer)
    onClosed?.()
  })

  fanout.add(peer)
  send(fanout.greeting(ctx.snapshot(), filter, since))
  return peer
}
