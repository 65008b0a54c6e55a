import type { IncomingMessage, Server } from 'node:http'
import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import { MAX_SYMBOLS } from '../domain/rate.js'
import { originAllowed } from './admission.js'
import type { createConnectionCounter } from './admission.js'
import { handshakeProblem } from './upgrades.js'

// Most upgrades are widgets opening /v1/ws with a plain query: nothing to refuse, nothing to log. The
// framework's path (a request and a reply, every hook of the app, a response object attached to the
// socket) costs more than the upgrade itself, so such a request is admitted here, straight off the HTTP
// server's 'upgrade' event, with exactly the checks the route would make. Whatever this path does not
// accept plainly (a refusal to answer, an unusual query, a proxy's forwarded address, shutdown) goes
// the framework's way, which answers it as before: the lean path never refuses anything itself.

type UpgradeListener = (this: Server, req: IncomingMessage, socket: Duplex, head: Buffer) => void

export interface StreamParams { symbols: string[] | undefined, since: number | undefined }

export interface LeanUpgradeOptions {
  /** The WebSocket route's full path, such as /v1/ws. */
  path: string
  currencies: ReadonlySet<string>
  corsOrigins: readonly string[]
  counter: ReturnType<typeof createConnectionCounter>
  wss: WebSocketServer
  /** False once the instance shuts down: the framework then answers with its refusal. */
  accepting: () => boolean
  /** Wires an upgraded socket to the hub, as the route's WebSocket handler does. */
  attach: (socket: WebSocket, params: StreamParams, ip: string) => void
}

/**
 * Puts the lean path in front of the upgrade listeners installed so far (@fastify/websocket's), which
 * still receive every request it does not take. Returns the function that removes it.
 */
export function installLeanUpgrades (server: Server, opts: LeanUpgradeOptions): () => void {
  const framework = server.listeners('upgrade') as UpgradeListener[]
  for (const listener of framework) server.removeListener('upgrade', listener)
  const onUpgrade: UpgradeListener = function (req, socket, head) {
    if (upgradeLean(req, socket, head, opts)) return
    for (const listener of framework) listener.call(this, req, socket, head)
  }
  server.on('upgrade', onUpgrade)
  return () => { server.removeListener('upgrade', onUpgrade) }
}

/** Upgrades and attaches the request when the route would; false, having touched nothing, otherwise. */
export function upgradeLean (req: IncomingMessage, socket: Duplex, head: Buffer, opts: LeanUpgradeOptions): boolean {
  // an injected request (a stream, not a TCP socket) and a forwarded one (whose client address depends on
  // the trusted proxies) go the framework's way
  if (req.method !== 'GET' || !(socket instanceof Socket) || !opts.accepting()) return false
  const { headers } = req
  if (headers['x-forwarded-for'] !== undefined) return false
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if ((q === -1 ? url : url.slice(0, q)) !== opts.path) return false
  const params = q === -1 ? NO_PARAMS : parseStreamParams(url.slice(q + 1), opts.currencies)
  if (params === undefined || handshakeProblem(headers) !== undefined) return false
  if (!originAllowed(headers.origin, headers.host, opts.corsOrigins)) return false
  const ip = socket.remoteAddress
  if (ip === undefined || opts.counter.reserve(ip) !== undefined) return false
  // without a verifyClient, `ws` completes the handshake (or gives up on the socket) synchronously; once
  // attached, the peer frees the slot when its socket closes
  let attached = false
  opts.wss.handleUpgrade(req, socket, head, (ws) => {
    attached = true
    // what @fastify/websocket announces for every socket it upgrades
    opts.wss.emit('connection', ws, req)
    opts.attach(ws, params, ip)
  })
  if (!attached) opts.counter.release(ip)
  return true
}

const NO_PARAMS: StreamParams = { symbols: undefined, since: undefined }
const SINCE = /^\d{1,15}$/

/**
 * The query as the route's schema would read it, for the plain spelling only: `symbols` a comma list of
 * served currencies, `since` a whole number, each at most once, nothing escaped. Undefined for anything
 * else, which the schema then accepts or refuses itself.
 */
export function parseStreamParams (search: string, currencies: ReadonlySet<string>): StreamParams | undefined {
  let symbols: string[] | undefined
  let since: number | undefined
  if (search === '') return NO_PARAMS
  for (const part of search.split('&')) {
    const eq = part.indexOf('=')
    const key = part.slice(0, eq)
    const value = part.slice(eq + 1)
    if (eq > 0 && key === 'symbols' && symbols === undefined) {
      const list = value.split(',')
      if (list.length > MAX_SYMBOLS || !list.every((s) => currencies.has(s))) return undefined
      symbols = list
    } else if (eq > 0 && key === 'since' && since === undefined && SINCE.test(value)) {
      since = Number(value)
    } else {
      return undefined
    }
  }
  return { symbols, since }
}
