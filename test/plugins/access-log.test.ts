import { once } from 'node:events'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket from 'ws'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/plugins/access-log.js'
import { createMemoryStore } from '../../src/store/memory.js'
import { testConfig } from '../support/build.js'
import { until } from '../support/until.js'
import { fiveRates, publishInput } from '../support/snapshot.js'

const SLOW_MS = 100

interface Line { level: unknown, msg: string, statusCode?: number, url?: string, slow?: boolean, reqId?: string }

/** The real app logging through the service's pino options into `lines`, with test-only routes that fail or dawdle. */
// a shared CI machine can make any request slow: only the tests about slowness use a low threshold
async function logged (t: Test, level: string, slowMs = 60_000): Promise<{ app: FastifyInstance, lines: Line[] }> {
  const lines: Line[] = []
  const logger = pino(loggerOptions(level), { write: (s: string) => { lines.push(JSON.parse(s) as Line) } })
  const config = testConfig({ LOG_LEVEL: level, LOG_SLOW_REQUEST_MS: String(slowMs) })
  const app = await buildApp({ config, store: createMemoryStore({ quote: config.quote }), sources: [], logger })
  t.teardown(() => app.close())
  app.get('/test/throws', async () => { throw new Error('boom') })
  app.get('/test/500', async (_request, reply) => reply.code(500).send({ error: 'RATES_INTERNAL', message: 'internal error' }))
  app.get('/test/slow', async () => {
    const started = Date.now()
    await until(() => Date.now() - started > slowMs, { timeoutMs: slowMs * 2, what: 'the slow threshold' })
    return { ok: true }
  })
  await app.ready()
  await app.store.publish(publishInput(fiveRates()))
  lines.length = 0
  return { app, lines }
}

const access = (lines: Line[]): Line[] => lines.filter((l) => l.msg === 'request completed')

t.test('at info, probes, scrapes and successful requests log nothing', async (t) => {
  const { app, lines } = await logged(t, 'info')
  for (const url of ['/healthz', '/readyz', '/metrics', '/v1/rates', '/v1/rates/KZT', '/v1/history/KZT', '/openapi.json', '/nope']) {
    const res = await app.inject(url)
    t.ok(res.statusCode < 500, `${url} answered ${res.statusCode}`)
  }
  const etag = (await app.inject('/v1/rates')).headers.etag as string
  t.equal((await app.inject({ url: '/v1/rates', headers: { 'if-none-match': etag } })).statusCode, 304)
  t.same(lines, [], 'not a single line')
})

t.test('at info, a failed request is one line at error', async (t) => {
  const { app, lines } = await logged(t, 'info')
  t.equal((await app.inject('/test/500')).statusCode, 500)
  t.match(lines, [{ level: 'error', msg: 'request completed', statusCode: 500, url: '/test/500', reqId: String }])
  t.equal(lines.length, 1)

  lines.length = 0
  t.equal((await app.inject('/test/throws')).statusCode, 500)
  t.equal(lines.length, 1, 'a thrown error is one line too')
  t.match(lines[0], { level: 'error', msg: 'request failed', err: { message: 'boom' } })
})

t.test('at info, a slow request is one line at warn', async (t) => {
  const { app, lines } = await logged(t, 'info', SLOW_MS)
  t.equal((await app.inject('/test/slow')).statusCode, 200)
  t.match(lines, [{ level: 'warn', msg: 'request completed', statusCode: 200, url: '/test/slow', slow: true }])
  t.equal(lines.length, 1)
})

t.test('a 503 before the first snapshot is not an error line on every poll', async (t) => {
  const lines: Line[] = []
  const config = testConfig({ LOG_LEVEL: 'info', LOG_SLOW_REQUEST_MS: '60000' })
  const app = await buildApp({
    config,
    store: createMemoryStore({ quote: config.quote }),
    sources: [],
    logger: pino(loggerOptions('info'), { write: (s: string) => { lines.push(JSON.parse(s) as Line) } })
  })
  t.teardown(() => app.close())
  await app.ready()
  lines.length = 0
  t.equal((await app.inject('/v1/rates')).statusCode, 503)
  t.equal((await app.inject('/readyz')).statusCode, 503)
  t.same(lines, [])
})

t.test('LOG_LEVEL=debug turns the access log on, one line per request', async (t) => {
  const { app, lines } = await logged(t, 'debug')
  await app.inject('/healthz')
  await app.inject('/v1/rates')
  t.match(access(lines), [
    { level: 'debug', url: '/healthz', statusCode: 200 },
    { level: 'debug', url: '/v1/rates', statusCode: 200 }
  ])
  t.equal(access(lines).length, 2)
})

t.test('every line carries its level as a word', async (t) => {
  const { app, lines } = await logged(t, 'debug', SLOW_MS)
  await app.inject('/healthz')
  await app.inject('/test/500')
  await app.inject('/test/throws')
  await app.inject('/test/slow')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.ok(lines.length >= 5)
  for (const line of lines) t.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(line.level as string), `level ${String(line.level)}`)
})

t.test('a long-lived SSE stream is not taken for a slow request', async (t) => {
  const { app, lines } = await logged(t, 'info', SLOW_MS)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const req = request({ host: '127.0.0.1', port, path: '/v1/stream' })
  req.end()
  const [res] = await once(req, 'response') as [import('node:http').IncomingMessage]
  t.equal(res.statusCode, 200)
  const opened = Date.now()
  res.resume()
  await until(() => Date.now() - opened > SLOW_MS * 2, { timeoutMs: SLOW_MS * 20, what: 'the stream outliving the slow threshold' })
  req.destroy()
  await until(async () => (await app.inject('/metrics')).body.includes('fx_push_clients{transport="sse"} 0'), { timeoutMs: 5_000, what: 'the stream to close' })
  t.same(lines.filter((l) => l.msg === 'request completed' && l.url?.startsWith('/v1/') === true), [])
})

t.test('a long-lived WebSocket is not taken for a slow request', async (t) => {
  const { app, lines } = await logged(t, 'info', SLOW_MS)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const ws = new WebSocket(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/ws`)
  t.teardown(() => ws.terminate())
  const first = once(ws, 'message')
  await once(ws, 'open')
  await first
  const opened = Date.now()
  await until(() => Date.now() - opened > SLOW_MS * 2, { timeoutMs: SLOW_MS * 20, what: 'the socket outliving the slow threshold' })
  ws.close()
  await until(async () => (await app.inject('/metrics')).body.includes('fx_push_clients{transport="ws"} 0'), { timeoutMs: 5_000, what: 'the socket to close' })
  t.same(lines.filter((l) => l.msg === 'request completed' && l.url?.startsWith('/v1/') === true), [])
})
