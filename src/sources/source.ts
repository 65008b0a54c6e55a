import type { Dispatcher } from 'undici'
import type { Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'

/** Validators and body of the last 200 answer per URL, so a 304 can be served from memory. */
export interface CachedResponse {
  etag?: string
  lastModified?: string
  text: string
}

/** The conditional-request cache of one source; a Map satisfies it, createResponseCache bounds it. */
export interface ResponseCache {
  get: (url: string) => CachedResponse | undefined
  set: (url: string, entry: CachedResponse) => unknown
  delete: (url: string) => unknown
  readonly size: number
}

/**
 * Keeps the `limit` most recently used URLs. Dated URLs change every day, so a plain map would keep one
 * body per day forever; a source asks for at most two URLs a poll (today and a fallback, or two files).
 */
export function createResponseCache (limit = 4): ResponseCache {
  const entries = new Map<string, CachedResponse>()
  return {
    get (url) {
      const entry = entries.get(url)
      if (entry !== undefined) {
        // re-inserting moves the URL to the end of the map's insertion order: the newest
        entries.delete(url)
        entries.set(url, entry)
      }
      return entry
    },
    set (url, entry) {
      entries.delete(url)
      entries.set(url, entry)
      for (const oldest of entries.keys()) {
        if (entries.size <= limit) break
        entries.delete(oldest)
      }
    },
    delete: (url) => entries.delete(url),
    get size () { return entries.size }
  }
}

/** Everything an adapter needs for one fetch; owned by the poller. */
export interface FetchContext {
  dispatcher: Dispatcher
  signal: AbortSignal
  /** The poll's wall-clock time: dated URLs are built from it, value dates never are. */
  now: Date
  /** Per-source conditional-request cache, keyed by URL. */
  cache: ResponseCache
  userAgent: string
  /** Deadline of one request, headers and body together, milliseconds. */
  timeoutMs: number
  /** Larger bodies are refused. */
  maxBytes: number
}

/** One upstream feed: turns HTTP answers into quotes. No timers, retries, state or logging here. */
export interface Source {
  id: SourceId
  fetchQuotes: (ctx: FetchContext) => Promise<Quote[]>
}

export interface SourceOptions {
  /** Origin (with an optional path prefix) that replaces the real one, e.g. http://127.0.0.1:9000/nbk. */
  origin?: string
}

/** Joins an origin that may carry a path prefix with an absolute path. */
export function joinUrl (origin: string, path: string): string {
  return origin.replace(/\/+$/, '') + path
}
