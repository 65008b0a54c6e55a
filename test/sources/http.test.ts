import t from 'tap'
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { ServerResponse } from 'node:http'
import { createResponseCache } from '../../src/sources/source.js'
import { fetchText } from '../../src/sources/http.js'
import { fixtureServer } from '../support/fixture-server.js'
import { fetchContext } from '../support/fetch-context.js'
import { until } from '../support/until.js'

const TIMEOUT_MS = 400
// a drip chunk arrives well within undici's per-chunk bodyTimeout, so only a total deadline ends the request
const DRIP_MS = TIMEOUT_MS / 8
const never = new AbortController().signal

/** Sends one byte every DRIP_MS until the client goes away; reports when it does. */
function drip (res: ServerResponse, closed: () => void): void {
  res.writeHead(200, { 'content-type': 'application/json' })
  const timer = setInterval(() => res.write(' '), DRIP_MS)
  res.on('close', () => { clearInterval(timer); closed() })
}

/** Rejects when `promise` has not settled within `ms`, so that a hanging fetch fails the test instead of the run. */
async function within<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, guard])
  } finally {
    clearTimeout(timer)
  }
}

t.test('a body dripping a byte at a time is cut at the request deadline, and its connection closed', async (t) => {
  let closedAt = 0
  const server = await fixtureServer(t, (_req, res) => { drip(res, () => { closedAt = Date.now() }) })
  const ctx = fetchContext(t, { signal: never, timeoutMs: TIMEOUT_MS })
  const started = Date.now()
  const err = await within(fetchText('nbk', `${server.url}/drip`, ctx).then(() => undefined, (e: unknown) => e), TIMEOUT_MS * 4)
  const elapsed = Date.now() - started
  t.match(err, { code: 'RATES_SOURCE_TIMEOUT', message: /nbk: no complete answer within 400 ms/ })
  t.ok(elapsed >= TIMEOUT_MS - 5 && elapsed < TIMEOUT_MS * 2, `ended after ${elapsed} ms`)
  await until(() => closedAt > 0, { timeoutMs: TIMEOUT_MS * 2, what: 'the upstream connection to close' })
  t.pass('the upstream connection is closed, not left dripping')
})

t.test('headers dripping a byte at a time are cut at the same deadline', async (t) => {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.write('HTTP/1.1 200 OK\r\nX-Slow: ')
    const timer = setInterval(() => socket.write('a'), DRIP_MS)
    socket.on('close', () => { clearInterval(timer); sockets.delete(socket) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const started = Date.now()
  const err = await within(fetchText('cbr', url, fetchContext(t, { signal: never, timeoutMs: TIMEOUT_MS })).then(() => undefined, (e: unknown) => e), TIMEOUT_MS * 4)
  t.match(err, { code: 'RATES_SOURCE_TIMEOUT' })
  t.ok(Date.now() - started < TIMEOUT_MS * 2)
})

t.test('an error page dripping its body fails by the same deadline', async (t) => {
  const server = await fixtureServer(t, (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/html' })
    const timer = setInterval(() => res.write('<'), DRIP_MS)
    res.on('close', () => clearInterval(timer))
  })
  const started = Date.now()
  const err = await within(fetchText('nbkr', `${server.url}/`, fetchContext(t, { signal: never, timeoutMs: TIMEOUT_MS })).then(() => undefined, (e: unknown) => e), TIMEOUT_MS * 4)
  t.match(err, { code: 'RATES_SOURCE_TIMEOUT' })
  t.ok(Date.now() - started < TIMEOUT_MS * 2)
})

t.test('a connection reset mid-body is a typed network error', async (t) => {
  const server = await fixtureServer(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' })
    res.write('{"rates":', () => { res.socket?.destroy() })
  })
  await t.rejects(fetchText('fawazahmed0', `${server.url}/`, fetchContext(t, { signal: never, timeoutMs: TIMEOUT_MS })), { code: 'RATES_SOURCE_NETWORK', message: /^fawazahmed0: / })
})

t.test('the caller aborting mid-body ends the request at once with the caller\'s reason', async (t) => {
  const server = await fixtureServer(t, (_req, res) => { drip(res, () => {}) })
  const caller = new AbortController()
  const ctx = fetchContext(t, { signal: caller.signal, timeoutMs: 60_000 })
  const pending = fetchText('cbu', `${server.url}/`, ctx).then(() => undefined, (e: unknown) => e)
  setTimeout(() => caller.abort(new Error('poll deadline')), DRIP_MS * 3)
  const err = await within(pending, TIMEOUT_MS * 4)
  t.match(err, { code: 'RATES_SOURCE_NETWORK', message: /cbu: .*poll deadline/ })
})

t.test('a body over the cap is refused: declared by Content-Length, or counted while streaming', async (t) => {
  const maxBytes = 10_000
  let endlessClosed = false
  const server = await fixtureServer(t, (req, res) => {
    if (req.url === '/declared') {
      res.writeHead(200, { 'content-length': String(maxBytes + 1) })
      res.write('x') // the length alone decides: the rest never needs to arrive
      return
    }
    if (req.url === '/exact') {
      res.writeHead(200, { 'content-length': String(maxBytes) }).end('y'.repeat(maxBytes))
      return
    }
    // chunked, no length: an endless body is cut as soon as it passes the cap
    res.writeHead(200, { 'content-type': 'application/json' })
    const chunk = Buffer.alloc(4096, 0x20)
    const timer = setInterval(() => res.write(chunk), 5)
    res.on('close', () => { clearInterval(timer); endlessClosed = true })
  })
  const ctx = fetchContext(t, { maxBytes, signal: never, timeoutMs: 60_000 })
  await t.rejects(fetchText('nbt', `${server.url}/declared`, ctx), { code: 'RATES_SOURCE_TOO_LARGE', message: /nbt: body of 10001 bytes exceeds the 10000-byte cap/ })
  await t.rejects(within(fetchText('nbt', `${server.url}/endless`, ctx), TIMEOUT_MS * 10), { code: 'RATES_SOURCE_TOO_LARGE', message: /nbt: body exceeds the 10000-byte cap/ })
  await until(() => endlessClosed, { timeoutMs: TIMEOUT_MS * 4, what: 'the oversized stream to close' })
  t.equal((await fetchText('nbt', `${server.url}/exact`, ctx)).text.length, maxBytes, 'a body of exactly the cap is accepted')
})

t.test('the conditional-request cache keeps a few recent URLs, not one per dated URL forever', async (t) => {
  const server = await fixtureServer(t, (req, res) => {
    const etag = `"${req.url ?? ''}"`
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end()
      return
    }
    res.writeHead(200, { etag, 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }))
  })
  const cache = createResponseCache(3)
  const ctx = fetchContext(t, { cache })
  let largest = 0
  for (let day = 1; day <= 30; day++) {
    await fetchText('cbu', `${server.url}/day/${day}`, ctx)
    largest = Math.max(largest, cache.size)
  }
  t.equal(largest, 3, 'never more than 3 entries')
  t.match(await fetchText('cbu', `${server.url}/day/30`, ctx), { notModified: true, text: '{"url":"/day/30"}' }, 'the newest URL still revalidates')
  t.match(await fetchText('cbu', `${server.url}/day/28`, ctx), { notModified: true }, 'as do the few before it')
  t.match(await fetchText('cbu', `${server.url}/day/1`, ctx), { notModified: false }, 'the oldest was evicted')
  // a URL in use every poll stays cached while others come and go
  for (let day = 31; day <= 40; day++) {
    t.match(await fetchText('cbu', `${server.url}/daily`, ctx), { notModified: day > 31 }, `daily revalidates on round ${day}`)
    await fetchText('cbu', `${server.url}/day/${day}`, ctx)
  }
})
