import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { etagMatches } from './conditional.js'
import type { RestLimit } from './rest-limit.js'

/** Per request, the headers the limiter sets; the lane sets them afresh, so they are not remembered. */
const LIMIT_HEADERS = new Set(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])

/** An answer a route gave, as the lane replays it: its headers around the limiter's, and its body. */
interface Answer {
  route: string
  etag: string
  /** The headers before and after the limiter's, as a flat name, value list. */
  before: string[]
  after: string[]
  contentType: string
  body: Buffer
  /** Whether the state the answer was built from is still the current one. */
  valid: () => boolean
}

export interface FastLaneOptions {
  /** The REST routes' budget; the lane spends it like the routes do. */
  limit?: RestLimit
  /** Fastify's trustProxy function, when the client address comes from X-Forwarded-For. */
  trust?: (address: string, hop: number) => boolean
  /** Records the request's latency in the HTTP histogram. */
  observe: (method: string, route: string, status: number, seconds: number) => void
  /** Whether the access log would write a served request's line: the lane then leaves it to the routes. */
  logsRequests: () => boolean
  /** Answers kept at most (each URL, Accept and Origin is one), the oldest forgotten first. */
  maxEntries?: number
  /** A body larger than this is served by the route every time. */
  maxBodyBytes?: number
  /** Bytes of bodies kept at most, the oldest forgotten first. */
  maxBytes?: number
}

/**
 * The fast lane of the REST routes. The snapshot and history bodies only change when the data does, and
 * most requests repeat one another: the first request for a URL (with its Accept and Origin) goes through
 * the routes, which hand their answer to `remember`; the next ones, while the data it came from is still
 * current, are answered here, straight from the server's request event, with the same status, headers and
 * bytes, the limiter and the latency histogram applied alike. Anything else — another method, an upgrade,
 * a body, a budget spent, a stale or unknown answer, the instance closing, access logging on — goes through
 * Fastify as before.
 */
export function createFastLane ({ limit, trust, observe, logsRequests, maxEntries = 512, maxBodyBytes = 256 * 1024, maxBytes = 16 * 1024 * 1024 }: FastLaneOptions) {
  const answers = new Map<string, Answer>()
  let bytes = 0
  const forget = (key: string): void => {
    bytes -= answers.get(key)?.body.length ?? 0
    answers.delete(key)
  }
  let open = true
  const keyOf = (url: string | undefined, headers: IncomingMessage['headers']): string => `${url ?? ''}\n${headers.accept ?? ''}\n${headers.origin ?? ''}`
  const addressOf = (req: IncomingMessage): string => {
    if (trust === undefined) return req.socket.remoteAddress ?? ''
    const all = proxyAddr.all(req, trust)
    return all[all.length - 1] ?? ''
  }

  return {
    /** Answers `req` when it repeats a remembered request; false leaves it to Fastify. */
    serve (req: IncomingMessage, res: ServerResponse): boolean {
      if (!open || req.method !== 'GET' || answers.size === 0) return false
      const headers = req.headers
      if (headers.upgrade !== undefined || headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false
      const answer = answers.get(keyOf(req.url, headers))
      if (answer === undefined || !answer.valid() || logsRequests()) return false
      const start = performance.now()
      const ip = limit === undefined ? undefined : addressOf(req)
      // a refusal is the routes' to give, with its body and its log line
      if (ip !== undefined && !limit?.allows(ip)) return false
      const spent = ip === undefined ? undefined : limit?.spend(ip)
      const list = spent === undefined
        ? [...answer.before, ...answer.after]
        : [...answer.before, 'x-ratelimit-limit', spent.limit, 'x-ratelimit-remaining', spent.remaining, 'x-ratelimit-reset', spent.reset, ...answer.after]
      if (etagMatches(headers['if-none-match'], answer.etag)) {
        res.writeHead(304, list)
        res.end()
        observe('GET', answer.route, 304, (performance.now() - start) / 1000)
        return true
      }
      list.push('content-type', answer.contentType, 'content-length', String(answer.body.length))
      res.writeHead(200, list)
      res.end(answer.body)
      observe('GET', answer.route, 200, (performance.now() - start) / 1000)
      return true
    },
    /**
     * Called by a route as it sends `body`: its reply's headers are the answer's, `valid` tells when the
     * data behind it has changed. Only plain GETs are remembered.
     */
    remember (request: FastifyRequest, reply: FastifyReply, etag: string, body: string, contentType: string, valid: () => boolean): void {
      if (!open || request.method !== 'GET' || body.length > maxBodyBytes || request.routeOptions.url === undefined) return
      const key = keyOf(request.raw.url, request.headers)
      const bytesOf = Buffer.byteLength(body)
      forget(key)
      for (const oldest of answers.keys()) {
        if (answers.size < maxEntries && bytes + bytesOf <= maxBytes) break
        forget(oldest)
      }
      answers.set(key, { route: request.routeOptions.url, etag, ...split(reply.getHeaders()), contentType, body: Buffer.from(body), valid })
      bytes += bytesOf
    },
    /** From now on every request goes through Fastify (the instance is closing). */
    close (): void {
      open = false
      answers.clear()
      bytes = 0
    }
  }
}

export type FastLane = ReturnType<typeof createFastLane>

/** The reply's headers as flat lists before and after the limiter's, which the lane sets per request. */
function split (headers: Record<string, string | number | string[] | undefined>): { before: string[], after: string[] } {
  const before: string[] = []
  const after: string[] = []
  let seenLimit = false
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (LIMIT_HEADERS.has(name)) { seenLimit = true; continue }
    for (const v of [value].flat()) (seenLimit ? after : before).push(name, String(v))
  }
  return { before, after }
}

/** Fastify's `trustProxy` option as the function it uses for `request.ip` (fastify/lib/request.js); undefined: the socket's address. */
export function trustOf (trustProxy: boolean | string[] | ((address: string, hop: number) => boolean)): ((address: string, hop: number) => boolean) | undefined {
  if (typeof trustProxy === 'function') return trustProxy
  if (trustProxy === true) return () => true
  if (trustProxy === false) return undefined
  return proxyAddr.compile(trustProxy)
}

interface ServerOptions { http?: ServerOptionsOfNode, keepAliveTimeout?: number, requestTimeout?: number, connectionTimeout?: number, maxRequestsPerSocket?: number }
type ServerOptionsOfNode = Parameters<typeof createServer>[0]

/**
 * Fastify's `serverFactory`: the HTTP server Fastify would make, with the lane asked first. Set up as
 * Fastify sets up its own (fastify/lib/server.js), so timeouts and limits are unchanged.
 */
export function laneServer (lane: Pick<FastLane, 'serve'>) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: ServerOptions): Server => {
    const server = createServer(options.http ?? {}, (req, res) => { if (!lane.serve(req, res)) handler(req, res) })
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout
    server.setTimeout(options.connectionTimeout ?? 0)
    if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket as number
    return server
  }
}
