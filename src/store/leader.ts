import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Leadership, StoreLog } from './store.js'

// SET NX PX, except that a lock still holding our own token (say, after a renewal timed out) is taken back at once.
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

export interface LeaderElectionOptions {
  redis: Redis
  /** The lock key. */
  key: string
  /** FX_LEADER_LOCK_MS: how long the lock outlives a leader that stopped renewing. */
  lockMs: number
  /** FX_LEADER_RENEW_MS: renewal period of the leader and retry period of followers. */
  renewMs: number
  log: StoreLog
  /** Runs once the lock is held and before anyone is told, e.g. to catch up with the stored state. */
  beforeLead?: () => Promise<void>
}

export interface LeaderElection extends Leadership {
  /** This instance's random token, the value of the lock while it leads; writes are fenced with it. */
  token: string
  /** One acquire or renew attempt now; `start` repeats it every renewMs. */
  tick: () => Promise<void>
  start: () => void
  /** Drops leadership at once, e.g. when a fenced write found another token in the lock. */
  lose: (reason: string) => void
  /** Stops renewing and releases the lock, so another instance takes over without waiting for it to expire. */
  close: () => Promise<void>
}

/** Leader election with an expiring Redis lock holding a random token. */
export function createLeaderElection ({ redis, key, lockMs, renewMs, log, beforeLead }: LeaderElectionOptions): LeaderElection {
  const token = randomUUID()
  const listeners = new Set<(leader: boolean) => void>()
  let leader = false
  // the lock may have expired by then even if no renewal failed (a long pause): leadership ends with it
  let validUntil = 0
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  let unprepared: string | undefined

  const announce = (value: boolean): void => {
    for (const listener of listeners) {
      try { listener(value) } catch { /* a listener's failure is its own */ }
    }
  }

  const lose = (reason: string): void => {
    if (!leader) return
    leader = false
    log.warn({ reason }, 'leadership lost')
    announce(false)
  }

  const attempt = async (): Promise<void> => {
    const started = Date.now()
    if (leader) {
      if (started >= validUntil) return lose('lock expired before it was renewed')
      try {
        if (await redis.eval(RENEW, 1, key, token, lockMs) === 1) validUntil = started + lockMs
        else lose('lock taken over by another instance')
      } catch (err) {
        lose(`lock renewal failed: ${(err as Error).message}`)
      }
      return
    }
    if (redis.status !== 'ready') return
    if (await redis.eval(ACQUIRE, 1, key, token, lockMs).catch(() => 0) !== 1) return
    validUntil = started + lockMs
    try {
      await beforeLead?.()
    } catch (err) {
      // still holding the lock: the next tick takes it back and tries again; a lasting cause is logged once
      const problem = (err as Error).message
      if (problem !== unprepared) log.warn({ err }, 'could not prepare to lead')
      unprepared = problem
      return
    }
    unprepared = undefined
    if (closed || leader || Date.now() >= validUntil) return
    leader = true
    log.info({ token }, 'leadership acquired')
    announce(true)
  }

  const tick = (): Promise<void> => {
    running = running.then(async () => { if (!closed) await attempt() }).catch(() => {})
    return running
  }

  const schedule = (): void => {
    timer = setTimeout(() => { tick().finally(() => { if (!closed) schedule() }) }, renewMs)
    timer.unref()
  }

  return {
    token,
    isLeader: () => leader && Date.now() < validUntil,
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    tick,
    start: schedule,
    lose,
    async close () {
      if (closed) return
      closed = true
      clearTimeout(timer)
      await running
      lose('closing')
      if (redis.status === 'ready') await redis.eval(RELEASE, 1, key, token).catch(() => {})
    }
  }
}
