import type { Redis } from 'ioredis'
import type { StoreLog } from './store.js'

export interface AnswerProbeOptions {
  /** The command connection and the subscriber: a stalled subscriber misses updates just as surely. */
  connections: Redis[]
  /** How often to PING (FX_LEADER_RENEW_MS). */
  intervalMs: number
  /** How long one PING may take (the command timeout). */
  timeoutMs: number
  log: StoreLog
  /** Redis stopped answering on an open connection. */
  onSilent: () => void
  /** It answers again; what was missed meanwhile must be re-read. */
  onAnswering: () => void
}

export interface AnswerProbe {
  /** True while, on every connection, the newest answered PING was sent within one period plus one timeout. */
  answering: () => boolean
  /** A (re)connection counts as an answer; its own handler resynchronises. */
  reset: () => void
  start: () => void
  stop: () => void
}

/**
 * A Redis that hangs (SIGSTOP, a stalled host, a long fork) keeps its connections open, so the connection
 * status says nothing: only the age of the last answered round trip does.
 */
export function createAnswerProbe ({ connections, intervalMs, timeoutMs, log, onSilent, onAnswering }: AnswerProbeOptions): AnswerProbe {
  const deadlineMs = intervalMs + timeoutMs
  // the send time, not the arrival: an answer read late after a pause proves nothing about after it was sent
  const probes = connections.map((redis) => ({ redis, answeredSentAt: Date.now(), inFlight: false }))
  let reported = true
  let timer: NodeJS.Timeout | undefined

  const oldest = (): number => Math.min(...probes.map((p) => p.answeredSentAt))
  const open = (): boolean => probes.every((p) => p.redis.status === 'ready')

  // transitions are judged only on open connections: a closed one is the connection handlers' business
  const check = (): boolean => {
    const ok = Date.now() - oldest() <= deadlineMs
    if (ok === reported || !open()) return ok
    reported = ok
    if (ok) {
      log.info({}, 'redis answering again; resynchronising')
      onAnswering()
    } else {
      log.warn({ silentMs: Date.now() - oldest(), deadlineMs }, 'redis not answering')
      onSilent()
    }
    return ok
  }

  const tick = (): void => {
    check()
    for (const probe of probes) {
      if (probe.inFlight || probe.redis.status !== 'ready') continue
      probe.inFlight = true
      const sentAt = Date.now()
      probe.redis.ping().then(() => {
        probe.answeredSentAt = Math.max(probe.answeredSentAt, sentAt)
        check()
      }, () => {}).finally(() => { probe.inFlight = false })
    }
  }

  return {
    answering: check,
    reset () {
      for (const probe of probes) probe.answeredSentAt = Date.now()
      reported = true
    },
    start () {
      timer = setInterval(tick, intervalMs)
      timer.unref()
    },
    stop () { clearInterval(timer) }
  }
}
