import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { RatesError } from '../domain/errors.js'

export interface RestLimitOptions {
  /** Requests per window and client address. */
  max: number
  windowMs: number
  /** Addresses remembered at most; the longest-known one is forgotten first. */
  capacity?: number
  now?: () => number
}

/** What one request spent: the headers every answer carries, and whether it is within the budget. */
export interface Spent { allowed: boolean, limit: string, remaining: string, reset: string }

interface Window { count: number, resetAt: number }

/**
 * The per-address budget of the REST routes: a fixed window per client address (an IPv6 client by its /64,
 * as one host usually holds the whole prefix). One instance is one budget, shared by the REST routes and
 * the fast lane that answers their repeated requests; synchronous, so a served request awaits nothing.
 */
export function createRestLimit ({ max, windowMs, capacity = 100_000, now = Date.now }: RestLimitOptions) {
  const windows = new Map<string, Window>()
  const limit = String(max)
  const current = (key: string, t: number): Window => {
    let w = windows.get(key)
    if (w === undefined) {
      if (windows.size >= capacity) windows.delete(windows.keys().next().value as string)
      w = { count: 0, resetAt: t + windowMs }
      windows.set(key, w)
    } else if (w.resetAt <= t) {
      w.count = 0
      w.resetAt = t + windowMs
    }
    return w
  }
  const spend = (ip: string): Spent => {
    const t = now()
    const w = current(clientKey(ip), t)
    const count = ++w.count
    return { allowed: count <= max, limit, remaining: String(Math.max(0, max - count)), reset: String(Math.max(1, Math.ceil((w.resetAt - t) / 1000))) }
  }
  return {
    /** Whether one more request from `ip` would be within the budget, spending nothing. */
    allows (ip: string): boolean {
      const w = windows.get(clientKey(ip))
      return w === undefined || w.resetAt <= now() || w.count < max
    },
    /** Spends one request of `ip`'s budget. */
    spend,
    /** The limiter as an onRequest hook: limit headers on every answer, 429 with Retry-After beyond the budget. */
    hook (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
      const spent = spend(request.ip)
      reply.header('x-ratelimit-limit', spent.limit).header('x-ratelimit-remaining', spent.remaining).header('x-ratelimit-reset', spent.reset)
      if (spent.allowed) { done(); return }
      reply.header('retry-after', spent.reset)
      done(new RatesError('RATES_RATE_LIMITED', `more than ${max} requests a minute from this address; retry in ${spent.reset} seconds`, 429))
    }
  }
}

export type RestLimit = ReturnType<typeof createRestLimit>

/** The address a budget belongs to: IPv4 as it is, an IPv4-mapped IPv6 address as its IPv4, other IPv6 by /64. */
export function clientKey (ip: string): string {
  if (!ip.includes(':')) return ip
  const groups = expand(ip.toLowerCase().replace(/%.*$/, ''))
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [parseInt(groups[6] ?? '0', 16), parseInt(groups[7] ?? '0', 16)]
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address, `::` filled in and a trailing dotted IPv4 turned into two groups. */
function expand (ip: string): string[] {
  let text = ip
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const h = head === '' ? [] : head.split(':')
  const tl = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - tl.length)).fill('0'), ...tl]
  return groups.map((g) => g.replace(/^0+(?=.)/, ''))
}
