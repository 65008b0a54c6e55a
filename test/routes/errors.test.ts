import net from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket } from 'ws'
import t from 'tap'
import type { Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { build } from '../support/build.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { raw } from '../hub/clients.js'
import { until } from '../support/until.js'

/** The documented error body: exactly `{ error, message }`, `error` a RATES_* code. */
function documented (t: Test, body: string, what: string): { error: string, message: string } {
  const json = JSON.parse(body) as { error: string, message: string }
  t.same(Object.keys(json).sort(), ['error', 'message'], `${what}: { error, message }`)
  t.match(json.error, /^RATES_[A-Z_]+$/, `${what}: ${json.error}`)
  t.type(json.message, 'string')
  return json
}

t.test('framework errors answer with the documented shape and a RATES_* code', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  const cases: Array<[string, InjectOptions, number]> = [
    ['a malformed escape', { url: '/%' }, 400],
    ['a malformed escape in a parameter', { url: '/v1/rates/%ZZ' }, 400],
    ['a malformed escape in a REST prefix', { url: '/v1/%E0%A4%A' }, 400],
    ['an over-long parameter', { url: `/v1/rates/${'K'.repeat(200)}` }, 414],
    ['an invalid JSON body', { method: 'POST', url: '/v1/rates', headers: { 'content-type': 'application/json' }, payload: '{x' }, 400],
    ['a body over the limit', { method: 'POST', url: '/nope', headers: { 'content-type': 'application/json' }, payload: `"${'x'.repeat(20_000)}"` }, 413],
    ['an unknown path', { url: '/nope' }, 404],
    ['a repeated parameter', { url: '/v1/rates?symbols=KZT&symbols=UZS' }, 400]
  ]
  for (const [what, request, status] of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, what)
    documented(t, res.body, what)
    t.match(res.headers['content-type'], /^application\/json/, what)
  }
})

t.test('a method the service does not serve is 405 with Allow on a known path and 404 elsewhere', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
    for (const url of ['/v1/rates', '/v1/rates/KZT', '/%761/rates', '/v1/ws', '/healthz']) {
      const res = await app.inject({ method, url })
      t.equal(res.statusCode, 405, `${method} ${url}`)
      t.equal(res.headers.allow, 'GET, HEAD, OPTIONS')
      t.equal(documented(t, res.body, `${method} ${url}`).error, 'RATES_METHOD_NOT_ALLOWED')
    }
    const unknown = await app.inject({ method, url: '/v1/nope' })
    t.equal(unknown.statusCode, 404, `${method} /v1/nope`)
    t.equal(documented(t, unknown.body, `${method} /v1/nope`).error, 'RATES_NOT_FOUND')
  }
})

t.test('requests the HTTP parser refuses get the documented shape too', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const cases: Array<[string, string, number]> = [
    ['a bad URL on the wire', 'GET /% HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['both framings', 'PUT /v1/rates HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400],
    ['a header without a colon', 'GET /v1/rates HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400],
    ['a control character in a header name', 'GET /v1/rates HTTP/1.1\r\nHost: x\r\nX-B\x01ad: 1\r\n\r\n', 400],
    ['a malformed request line', 'GET /v1/rates HTTP/9\r\n\r\n', 400],
    ['a NUL in a header value', 'GET /v1/rates HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400],
    ['a non-numeric Content-Length', 'GET /v1/rates HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['conflicting Content-Lengths', 'GET /v1/rates HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['an unknown method', 'BREW /v1/rates HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a bare LF after a header', 'GET /v1/rates HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n', 400],
    ['headers over the size limit', `GET /v1/rates HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431]
  ]
  for (const [what, request, status] of cases) {
    const res = await raw(port, request)
    t.equal(res.status, status, what)
    t.match(res.headers, /content-type: application\/json/i, what)
    documented(t, res.body, what)
  }
})

t.test('a request that arrives during shutdown gets 503 with the documented body and a closed connection', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput(fiveRates()))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  // a push client that stopped reading holds shutdown open for the hub's close grace: the window under test
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`)
  t.teardown(() => ws.terminate())
  await new Promise((resolve, reject) => { ws.once('message', resolve).once('error', reject) })
  ;(ws as unknown as { _socket: Socket })._socket.pause()
  const kept = net.connect(port, '127.0.0.1')
  t.teardown(() => kept.destroy())
  kept.setEncoding('latin1')
  let data = ''
  kept.on('data', (chunk: string) => { data += chunk })
  kept.on('error', () => {})
  kept.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => data.includes('{"status":"ok"}'), { timeoutMs: 5000, what: 'the first answer on the kept-alive connection' })
  data = ''
  const closing = app.close()
  kept.write('GET /v1/rates HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => /\r\n\r\n\{.*\}$/s.test(data), { timeoutMs: 5000, what: 'an answer during shutdown' })
  const [head = '', body = ''] = data.split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 503/)
  t.match(head, /connection: close/i)
  t.match(head, /retry-after: \d+/i)
  t.match(documented(t, body, 'during shutdown'), { error: 'RATES_NOT_READY', message: /shutting down/ })
  await closing
})
