import type { HubLimits } from '../domain/limits.js'

// Who may open a stream, decided before the upgrade: the page's origin, then a free slot.

/**
 * Whether a browser page on `origin` may open a stream. No Origin header (a server-side client) and the
 * service's own origin are always allowed; otherwise `*` or an exact entry of CORS_ORIGINS.
 */
export function originAllowed (origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || allowed.includes('*')) return true
  if (allowed.some((a) => a.toLowerCase() === origin.toLowerCase())) return true
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}

export interface Refusal { statusCode: 429 | 503, message: string }
export type Admission = { ok: true, release: () => void } | ({ ok: false } & Refusal)

/** Counts open streams (WebSocket and SSE together) per client address and in total. */
export function createConnectionCounter (limits: Pick<HubLimits, 'maxConnections' | 'maxConnectionsPerIp'>) {
  const perIp = new Map<string, number>()
  let total = 0
  /** Why a stream from `ip` would be refused now; reserves nothing. */
  const refusal = (ip: string): Refusal | undefined => {
    if (total >= limits.maxConnections) {
      return { statusCode: 503, message: `this instance serves at most ${limits.maxConnections} streams; retry later or elsewhere` }
    }
    if ((perIp.get(ip) ?? 0) >= limits.maxConnectionsPerIp) {
      return { statusCode: 429, message: `at most ${limits.maxConnectionsPerIp} streams per client address` }
    }
    return undefined
  }
  /** Takes a slot of `ip` when one is free; the caller then owes exactly one `release(ip)`. */
  const reserve = (ip: string): Refusal | undefined => {
    const refused = refusal(ip)
    if (refused !== undefined) return refused
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1)
    total++
    return undefined
  }
  const release = (ip: string): void => {
    total--
    const left = (perIp.get(ip) ?? 1) - 1
    if (left <= 0) perIp.delete(ip)
    else perIp.set(ip, left)
  }
  return {
    total: () => total,
    refusal,
    reserve,
    release,
    /** Reserves a slot; `release` must run exactly once when the connection ends (extra calls are ignored). */
    admit (ip: string): Admission {
      const refused = reserve(ip)
      if (refused !== undefined) return { ok: false, ...refused }
      let released = false
      return {
        ok: true,
        release () {
          if (released) return
          released = true
          release(ip)
        }
      }
    }
  }
}
