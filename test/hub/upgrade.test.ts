import type { AddressInfo } from 'node:net'
import t from 'tap'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { connect, listen, metric, raw, refusal } from './clients.js'
import { until } from '../support/until.js'

const connections = async (server: { getConnections: (cb: (err: Error | null, n: number) => void) => void }): Promise<number> =>
  await new Promise((resolve, reject) => { server.getConnections((err, n) => { if (err !== null) reject(err); else resolve(n) }) })

t.test('WebSocket upgrades outside /v1/ws are refused before the upgrade and hold nothing', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '1' } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const paths = ['/v1/rates', '/v1/rates/KZT', '/v1/history/KZT', '/v1/stream', '/healthz', '/readyz', '/metrics', '/openapi.json',
    '/asyncapi.json', '/widget.js', '/', '/nope', '/v1/nope', '/v1/ws/extra', '/%761/rates', '/v1/rates?symbols=KZT', '/%', '/v1/rates/%ZZ',
    `/v1/rates/${'K'.repeat(200)}`]
  for (const path of paths) {
    const refused = await refusal(t, `ws://${host}${path}`)
    t.ok(refused.status >= 400 && refused.status < 500, `${path}: ${refused.status}`)
    t.match(JSON.parse(refused.body), { error: /^RATES_/, message: String }, `${path}: the documented error body`)
  }
  await until(async () => (await connections(app.server)) === 0, { timeoutMs: 5000, what: 'every refused connection closed by the server' })
  t.equal(await metric(app, 'clients', { transport: 'ws' }), 0)
  const stream = connect(t, `ws://${host}/v1/ws`)
  t.match(await stream.next('snapshot'), { type: 'snapshot', seq: 1 }, '/v1/ws still upgrades, and its one slot per address was free')
})

t.test('HEAD /v1/stream answers the stream headers at once and holds no slot', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '2', CORS_ORIGINS: 'https://news.example.com' } })
  await app.store.publish(publishInput(fiveRates()))
  const host = await listen(app)
  const heads = await Promise.all(Array.from({ length: 20 }, async () => await fetch(`http://${host}/v1/stream?symbols=KZT`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })))
  for (const res of heads) {
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /^text\/event-stream/)
  }
  t.equal(await metric(app, 'clients', { transport: 'sse' }), 0, 'no stream is open')
  const a = connect(t, `ws://${host}/v1/ws`)
  const b = await fetch(`http://${host}/v1/stream`, { signal: AbortSignal.timeout(5000) })
  t.equal(b.status, 200, 'the per-address limit of 2 still admits two streams')
  const reader = (b.body as ReadableStream<Uint8Array>).getReader()
  t.teardown(async () => { await reader.cancel().catch(() => {}) })
  t.match(new TextDecoder().decode((await reader.read()).value), /^retry: \d+/)
  await a.next('snapshot')
  // a HEAD answers what a GET would at that moment, without taking anything
  const full = await fetch(`http://${host}/v1/stream`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })
  t.equal(full.status, 429)
  t.equal(full.headers.get('retry-after'), '30')
  const bad = await fetch(`http://${host}/v1/stream?symbols=EUR`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })
  t.equal(bad.status, 400)
  const foreign = await fetch(`http://${host}/v1/stream`, { method: 'HEAD', headers: { origin: 'https://evil.example.net' }, signal: AbortSignal.timeout(5000) })
  t.equal(foreign.status, 403)
})

t.test('HEAD and OPTIONS on /v1/ws answer at once with the documented shapes', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '1' } })
  const host = await listen(app)
  for (let i = 0; i < 5; i++) {
    const head = await fetch(`http://${host}/v1/ws`, { method: 'HEAD', signal: AbortSignal.timeout(5000) })
    t.equal(head.status, 426)
    t.equal(head.headers.get('upgrade'), 'websocket')
    const plain = await fetch(`http://${host}/v1/ws`, { signal: AbortSignal.timeout(5000) })
    t.equal(plain.status, 426)
    t.match(await plain.json(), { error: 'RATES_BAD_REQUEST', message: /upgrade/ })
  }
  for (const path of ['/v1/ws', '/v1/stream', '/v1/rates']) {
    const options = await fetch(`http://${host}${path}`, { method: 'OPTIONS', signal: AbortSignal.timeout(5000) })
    t.equal(options.status, 204, `a bare OPTIONS ${path} is answered`)
    t.equal(await options.text(), '')
    const preflight = await fetch(`http://${host}${path}`, {
      method: 'OPTIONS', headers: { origin: 'https://news.example.com', 'access-control-request-method': 'GET' }, signal: AbortSignal.timeout(5000)
    })
    t.equal(preflight.status, 204)
    t.equal(preflight.headers.get('access-control-allow-origin'), '*')
  }
  const ws = connect(t, `ws://${host}/v1/ws`)
  await ws.opened
  t.pass('none of them took the one stream slot of this address')
})

t.test('a malformed WebSocket handshake on /v1/ws is refused with the documented body, holding no slot', async (t) => {
  const app = await build(t, { env: { WS_MAX_CONNECTIONS_PER_IP: '1' } })
  await listen(app)
  const { port } = app.server.address() as AddressInfo
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
  const v13 = 'Sec-WebSocket-Version: 13\r\n'
  const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade\r\n'
  const cases: Array<[string, string]> = [
    ['another protocol', `GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n${key}${v13}\r\n`],
    ['no key', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${v13}\r\n`],
    ['a malformed key', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}Sec-WebSocket-Key: short\r\n${v13}\r\n`],
    ['no version', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}\r\n`],
    ['an unknown version', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}Sec-WebSocket-Version: 99\r\n\r\n`],
    ['a malformed subprotocol list', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}${v13}Sec-WebSocket-Protocol: a,,b\r\n\r\n`],
    ['a repeated subprotocol', `GET /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}${v13}Sec-WebSocket-Protocol: a, a\r\n\r\n`],
    ['HEAD with an upgrade', `HEAD /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}${v13}\r\n`],
    ['POST with an upgrade', `POST /v1/ws HTTP/1.1\r\nHost: x\r\n${upgrade}${key}${v13}\r\n`]
  ]
  for (const [what, request] of cases) {
    const res = await raw(port, request)
    t.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status}`)
    t.match(res.headers, /content-type: application\/json/i, what)
    if (!what.startsWith('HEAD')) t.match(JSON.parse(res.body), { error: /^RATES_/, message: String }, what)
  }
  await until(async () => (await connections(app.server)) === 0, { timeoutMs: 5000, what: 'every refused connection closed' })
  const ws = connect(t, `ws://127.0.0.1:${port}/v1/ws`)
  await ws.opened
  t.pass('the one slot of this address was never taken')
})
