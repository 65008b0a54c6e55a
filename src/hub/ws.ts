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
}

/** Wires one upgraded socket to the fan-out; the peer leaves it when the socket closes. */
export function attachWsPeer (socket: WebSocket, filter: Filter, since: number | undefined, ctx: WsPeerContext): WsPeer {
  const { fanout, limits } = ctx
  const limiter = createRateLimiter(limits.maxMessagesPerSec)
  let strikes = 0
  let alive = true
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))

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
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_RESTART, retryReason('restart', retryMs))
      await closed
    },
    terminate: () => socket.terminate()
  }

  const strike = (code: string, message: string): void => {
    strikes++
    if (strikes >= MAX_STRIKES) {
      socket.close(1008, `${code}: too many invalid messages`)
      return
    }
    send(createFrame({ type: 'error', code, message }))
  }
  const send = (frame: Frame): void => { if (peer.deliver(frame)) ctx.sent(frame.type) }

  socket.on('pong', () => { alive = true })
  socket.on('message', (data, isBinary) => {
    if (!limiter.take()) return strike('rate_limited', `at most ${limits.maxMessagesPerSec} messages per second`)
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
  socket.once('close', () => { fanout.remove(peer) })

  fanout.add(peer)
  send(fanout.greeting(ctx.snapshot(), filter, since))
  return peer
}
