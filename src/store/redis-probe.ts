import type { Redis } from 'ioredis'
import type { StoreLog } from './store.js'

export interface AnswerProbeOptions {
  redis: Redis
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
  /** True while the newest answered PING was sent within one period plus one timeout. */
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
export function createAnswerProbe ({ redis, intervalMs, timeoutMs, log, onSilent, onAnswering }: AnswerProbeOptions): AnswerProbe {
  const deadlineMs = intervalMs + timeoutMs
  // the send time, not the arrival: an answer read late after a pause proves nothing about after it was sent
  let answeredSentAt = Date.now()
  let reported = true
  let inFlight = false
  let timer: NodeJS.Timeout | undefined

  const fresh = (): boolean => Date.now() - answeredSentAt <= deadlineMs

  // transitions are judged only on an open connection: a closed one is the connection handlers' business
  const check = (): boolean => {
    const ok = fresh()
    if (ok === reported || redis.status !== 'ready') return ok
    reported = ok
    if (ok) {
      log.info({}, 'redis answering again; resynchronising')
      onAnswering()
    } else {
      log.warn({ silentMs: Date.now() - answeredSentAt, deadlineMs }, 'redis not answering')
      onSilent()
    }
    return ok
  }

  const tick = (): void => {
    check()
    if (inFlight || redis.status !== 'ready') return
    inFlight = true
    const sentAt = Date.now()
    redis.ping().then(() => {
      answeredSentAt = Math.max(answeredSentAt, sentAt)
      check()
    }, () => {}).finally(() => { inFlight = false })
  }

  return {
    answering: check,
    reset () {
      answeredSentAt = Date.now()
      reported = true
    },
    start () {
      timer = setInterval(tick, intervalMs)
      timer.unref()
    },
    stop () { clearInterval(timer) }
  }
}
