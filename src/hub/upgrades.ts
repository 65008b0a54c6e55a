import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { RatesError } from '../domain/errors.js'

/**
 * Refuses, before the upgrade and with the documented JSON body, every upgrade request that would not
 * become a stream: one on a route without a WebSocket handler (@fastify/websocket would complete it with
 * a 101 and then wait up to 30 s for a close handshake, outside every stream limit), and a malformed
 * handshake on /v1/ws (which `ws` would refuse with a text body after the hub had counted it). Unknown
 * paths keep their 404. Add after @fastify/websocket (its onRequest hook marks upgrades), before the routes.
 */
export function refuseStrayUpgrades (app: FastifyInstance): void {
  const upgradable = new Set<string>()
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if ((route.wsHandler !== undefined || route.websocket === true) && methods.includes('GET')) upgradable.add(route.url)
  })
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url
    if (!request.ws || route === undefined) return
    if (request.method !== 'GET' || !upgradable.has(route)) {
      throw new RatesError('RATES_BAD_REQUEST', `no WebSocket endpoint at ${(request.url.split('?')[0] ?? '').slice(0, 200)}; connect to /v1/ws`, 400)
    }
    const problem = handshakeProblem(request.headers)
    if (problem === undefined) return
    if (problem.startsWith('Sec-WebSocket-Version')) reply.header('sec-websocket-version', '13, 8')
    throw new RatesError('RATES_BAD_REQUEST', problem, 400)
  })
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** What `ws` would refuse in a handshake (RFC 6455 section 4.2.1), checked before the hub counts the stream. */
export function handshakeProblem (headers: IncomingHttpHeaders): string | undefined {
  if (headers.upgrade?.toLowerCase() !== 'websocket') return 'Upgrade: expected websocket'
  if (!/^[+/0-9A-Za-z]{22}==$/.test(headers['sec-websocket-key'] ?? '')) return 'Sec-WebSocket-Key: missing or malformed'
  const version = headers['sec-websocket-version']
  if (version !== '13' && version !== '8') return 'Sec-WebSocket-Version: expected 13'
  const protocols = headers['sec-websocket-protocol']
  if (protocols !== undefined) {
    const list = protocols.split(',').map((p) => p.trim())
    if (!list.every((p) => TOKEN.test(p)) || new Set(list).size !== list.length) return 'Sec-WebSocket-Protocol: malformed list'
  }
  return undefined
}
