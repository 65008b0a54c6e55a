import { startService } from '../support/process.js'
import type { ServiceProcess } from '../support/process.js'
import type { Snapshot } from '../../src/domain/rate.js'
import { bounded, tick } from './scope.js'
import type { Scope } from './scope.js'

export type { ServiceProcess }

/** The built service (`node dist/server.js`) as a child process, killed with the scope. */
export async function launch (scope: Scope, env: Record<string, string>): Promise<ServiceProcess> {
  return await startService(scope, { LOG_LEVEL: 'info', ...env }, 20_000)
}

export const alive = (svc: ServiceProcess): boolean => svc.child.exitCode === null && svc.child.signalCode === null

/**
 * SIGTERM, then SIGKILL if the process has not exited within `graceMs` (the service's own drain limit is
 * 10 s). Resolves with how it ended, so a process that ignores SIGTERM is reported, not waited for.
 */
export async function stop (svc: ServiceProcess, graceMs = 12_000): Promise<{ exit: number | string, killed: boolean, ms: number }> {
  const started = Date.now()
  if (!alive(svc)) return { exit: await svc.exited, killed: false, ms: 0 }
  svc.child.kill('SIGTERM')
  try {
    return { exit: await bounded(svc.exited, graceMs, 'exit after SIGTERM'), killed: false, ms: Date.now() - started }
  } catch {
    svc.child.kill('SIGKILL')
    return { exit: await svc.exited, killed: true, ms: Date.now() - started }
  }
}

export interface Reply<T> { status: number, body: T, ms: number }

/** GET with a deadline; status 0 when nothing answered in time. */
export async function getJson<T = unknown> (url: string, timeoutMs = 2000): Promise<Reply<T | undefined>> {
  const started = Date.now()
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await res.text()
    let body: T | undefined
    try { body = JSON.parse(text) as T } catch { body = undefined }
    return { status: res.status, body, ms: Date.now() - started }
  } catch {
    return { status: 0, body: undefined, ms: Date.now() - started }
  }
}

/** A source as /readyz lists it: the public failure code is `error` (older builds showed the text as `lastError`). */
export interface ReadySource { id: string, ok: boolean, consecutiveFailures: number, error?: string | null, lastError?: string | null }
export interface Ready { status: string, reasons: string[], seq: number | null, sources: ReadySource[] }

export const rates = async (svc: ServiceProcess, timeoutMs = 2000): Promise<Reply<Snapshot | undefined>> => await getJson<Snapshot>(`${svc.url}/v1/rates`, timeoutMs)
export const ready = async (svc: ServiceProcess, timeoutMs = 2000): Promise<Reply<Ready | undefined>> => await getJson<Ready>(`${svc.url}/readyz`, timeoutMs)

export interface ProcessStats { rss: number, heap: number, lagP99: number, fds: number, clients: number }

/** Reads one sample from /metrics: standard names or the fx_-prefixed ones, whichever the build exposes. */
export async function processStats (svc: ServiceProcess): Promise<ProcessStats | undefined> {
  try {
    const res = await fetch(`${svc.url}/metrics`, { signal: AbortSignal.timeout(3000) })
    const text = await res.text()
    const value = (name: string): number => {
      const re = new RegExp(`^(?:fx_)?${name}(?:\\{[^}]*\\})? ([\\d.eE+-]+)$`, 'gm')
      let sum = 0
      for (const m of text.matchAll(re)) sum += Number(m[1])
      return sum
    }
    return {
      rss: value('process_resident_memory_bytes'),
      heap: value('nodejs_heap_size_used_bytes'),
      lagP99: value('nodejs_eventloop_lag_p99_seconds') * 1000,
      fds: value('process_open_fds'),
      clients: value('push_clients')
    }
  } catch {
    return undefined
  }
}

export interface Probe {
  /** Longest /healthz answer so far, and the number of probes that got none within the deadline. */
  worst: () => { maxMs: number, misses: number, count: number }
  reset: () => void
  stop: () => Promise<void>
}

/** Asks /healthz every `everyMs` in the background: a blocked event loop shows up as misses. */
export function probeHealth (svc: ServiceProcess, everyMs = 200, deadlineMs = 2000): Probe {
  let maxMs = 0
  let misses = 0
  let count = 0
  const state = { running: true }
  const loop = (async () => {
    while (state.running && alive(svc)) {
      const r = await getJson(`${svc.url}/healthz`, deadlineMs)
      count++
      if (r.status !== 200) misses++
      else maxMs = Math.max(maxMs, r.ms)
      await tick(everyMs)
    }
  })()
  return {
    worst: () => ({ maxMs, misses, count }),
    reset: () => { maxMs = 0; misses = 0; count = 0 },
    async stop () { state.running = false; await loop }
  }
}

/**
 * Ordinary REST traffic in the background (documents, metrics, history): a service under faults still
 * serves, and the garbage it makes lets the collector run, which timers held only weakly would not survive.
 */
export function backgroundLoad (svc: ServiceProcess, width = 4): { stop: () => Promise<number> } {
  const paths = ['/metrics', '/openapi.json', '/v1/history/KZT?days=400', '/asyncapi.json']
  const state = { running: true, count: 0 }
  const loops = Array.from({ length: width }, async (_x, i) => {
    while (state.running && alive(svc)) {
      await getJson(`${svc.url}${paths[(i + state.count++) % paths.length] ?? '/'}`, 2000)
    }
  })
  return {
    async stop () {
      state.running = false
      await Promise.all(loops)
      return state.count
    }
  }
}
