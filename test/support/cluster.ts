import { Redis } from 'ioredis'
import { startService } from './process.js'
import type { ServiceProcess } from './process.js'
import type { ServerMessage } from '../../src/domain/protocol.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** One pino line of a service process. */
export interface LogEntry {
  msg: string
  /** Epoch ms, from the child's clock (the same wall clock as the test's). */
  time: number
  [key: string]: unknown
}

/** The service's JSON log lines so far; other output (none expected) is skipped. */
export function entries (svc: ServiceProcess): LogEntry[] {
  const out: LogEntry[] = []
  for (const line of svc.logs) {
    try {
      const value = JSON.parse(line) as unknown
      if (typeof value === 'object' && value !== null && typeof (value as LogEntry).msg === 'string') out.push(value as LogEntry)
    } catch { /* not a pino line */ }
  }
  return out
}

/** The log entries of `svc` whose message is `msg`, optionally only those logged at or after `since` (epoch ms). */
export function logged (svc: ServiceProcess, msg: string, since = 0): LogEntry[] {
  return entries(svc).filter((e) => e.msg === msg && e.time >= since)
}

/** The seqs this instance logged as `snapshot published`, in order. */
export function publishedSeqs (svc: ServiceProcess, since = 0): number[] {
  return logged(svc, 'snapshot published', since).map((e) => Number(e.seq))
}

/** Starts `n` instances of the built service on the same environment, all at once (whichever wins the lock leads). */
export async function startCluster (t: Teardown, n: number, env: Record<string, string>): Promise<ServiceProcess[]> {
  return await Promise.all(Array.from({ length: n }, async () => await startService(t, env)))
}

export async function getJson<T = unknown> (url: string): Promise<{ status: number, body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
  return { status: res.status, body: await res.json() as T }
}

/** The seq of each snapshot and update a WebSocket client received, in order (heartbeats and errors left out). */
export function seqsOf (received: readonly ServerMessage[]): number[] {
  return received.flatMap((m) => (m.type === 'snapshot' || m.type === 'update' ? [m.seq] : []))
}

/** When a lock expires by Redis's clock: between `earliest` and `latest` (epoch ms, the span of the read). */
export interface LockExpiry { key: string, earliest: number, latest: number }

/** Finds the key whose value is `token` (a leader's lock) and reads its remaining lifetime; undefined if none holds it. */
export async function lockExpiry (url: string, token: string): Promise<LockExpiry | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await client.connect()
  try {
    for (const key of await client.keys('*')) {
      if (await client.type(key) !== 'string') continue
      const before = Date.now()
      // the value and its lifetime in one transaction: both describe the same moment
      const replies = await client.multi().get(key).pttl(key).exec()
      const latest = Date.now()
      const [value, pttl] = (replies ?? []).map(([, reply]) => reply)
      if (value === token && typeof pttl === 'number' && pttl >= 0) return { key, earliest: before + pttl, latest: latest + pttl }
    }
    return undefined
  } finally {
    client.disconnect()
  }
}
