import type { FastifyReply } from 'fastify'
import type { Snapshot } from '../domain/rate.js'
import type { Fanout, Peer } from './fanout.js'
import type { Filter, Frame } from './messages.js'
import { jitter } from './retry.js'

export interface SsePeer extends Peer {
  /** Ends the stream after a final `retry:` so EventSource comes back after `retryMs`. */
  shutdown: (retryMs: number) => Promise<void>
  terminate: () => void
}

export interface SsePeerContext {
  fanout: Fanout
  maxBufferedBytes: number
  snapshot: () => Snapshot | undefined
  dropped: (reason: string) => void
  sent: (type: Frame['type']) => void
}

/** The response headers of a stream; a HEAD gets them alone. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no'
}

/**
 * `Last-Event-ID` wins over `?since=`: EventSource sends it on every reconnect to the URL it was first given.
 * An id that is not a seq is ignored, which costs the client one snapshot.
 */
export function resumeFrom (lastEventId: string | string[] | undefined, since: number | undefined): number | undefined {
  const id = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId
  if (id !== undefined && /^\d{1,15}$/.test(id.trim())) return Number(id.trim())
  return since
}

/** Takes over the response and streams Server-Sent Events to it until either side ends it. */
export function openSsePeer (reply: FastifyReply, filter: Filter, since: number | undefined, ctx: SsePeerContext): SsePeer {
  const { fanout } = ctx
  const res = reply.raw
  reply.hijack()
  // headers set by earlier hooks (CORS, helmet) live on the reply, which hijack bypasses
  res.writeHead(200, { ...reply.getHeaders(), ...SSE_HEADERS, connection: 'keep-alive' } as Record<string, string>)
  // spread the reconnects of clients that lost the same proxy at the same moment
  res.write(`retry: ${jitter(1000, 5000)}\n\n`)
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()))

  const peer: SsePeer = {
    transport: 'sse',
    filter,
    deliver (frame: Frame): boolean {
      if (res.writableEnded || res.destroyed) return false
      const bytes = frame.sse()
      const queued = res.writableLength
      if (queued > 0 && queued + bytes.length > ctx.maxBufferedBytes) {
        ctx.dropped('slow_consumer')
        res.destroy()
        return false
      }
      res.write(bytes)
      return true
    },
    async shutdown (retryMs) {
      if (!res.writableEnded && !res.destroyed) res.end(`retry: ${retryMs}\n\n`)
      await closed
    },
    terminate: () => { res.destroy() }
  }
  res.once('close', () => { fanout.remove(peer) })
  fanout.add(peer)
  // the greeting follows the headers in the same write queue, so it is exempt from the backpressure check
  const greeting = fanout.greeting(ctx.snapshot(), filter, since)
  res.write(greeting.sse())
  ctx.sent(greeting.type)
  return peer
}
