import type { Dispatcher } from 'undici'
import type { Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'

/** Validators and body of the last 200 answer per URL, so a 304 can be served from memory. */
export interface CachedResponse {
  etag?: string
  lastModified?: string
  text: string
}

/** Everything an adapter needs for one fetch; owned by the poller. */
export interface FetchContext {
  dispatcher: Dispatcher
  signal: AbortSignal
  /** The poll's wall-clock time: dated URLs are built from it, value dates never are. */
  now: Date
  /** Per-source conditional-request cache, keyed by URL. */
  cache: Map<string, CachedResponse>
  userAgent: string
  /** Headers and body timeouts, milliseconds. */
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
