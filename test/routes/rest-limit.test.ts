import t from 'tap'
import Fastify from 'fastify'
import { clientKey, createRestLimit } from '../../src/routes/rest-limit.js'
import { trustOf } from '../../src/routes/fast-lane.js'
import { errorHandler } from '../../src/routes/errors.js'

t.test('addresses share a budget by host: IPv4 as is, mapped IPv4 as IPv4, IPv6 by /64', async (t) => {
  t.equal(clientKey('203.0.113.7'), '203.0.113.7')
  t.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7')
  t.equal(clientKey('::FFFF:cb00:7107'), '203.0.113.7')
  t.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:0DB8:0001:0002:ffff:1:2:3'))
  t.equal(clientKey('2001:db8:1:2::1'), '2001:db8:1:2::/64')
  t.not(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'))
  t.equal(clientKey('::1'), '0:0:0:0::/64')
  t.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
})

t.test('a fixed window per address: limit headers on every answer, 429 with Retry-After beyond it, a fresh budget after', async (t) => {
  let now = 1_000_000
  const app = Fastify()
  app.setErrorHandler(errorHandler)
  const limit = createRestLimit({ max: 2, windowMs: 60_000, capacity: 2, now: () => now })
  app.addHook('onRequest', limit.hook)
  app.get('/', async () => 'ok')
  t.teardown(() => app.close())
  const ask = async (remoteAddress = '198.51.100.1'): Promise<Awaited<ReturnType<typeof app.inject>>> => await app.inject({ url: '/', remoteAddress })
  const first = await ask()
  t.equal(first.statusCode, 200)
  t.match(first.headers, { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '60' })
  now += 15_000
  t.equal((await ask()).headers['x-ratelimit-remaining'], '0')
  const refused = await ask()
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '45')
  t.match(refused.json(), { error: 'RATES_RATE_LIMITED', message: /more than 2 requests a minute/ })
  t.equal((await ask('198.51.100.2')).statusCode, 200, 'another address has its own budget')
  now += 45_000
  t.equal((await ask()).statusCode, 200, 'the window has passed')
  // capacity 2: a third address forgets the longest-known one (.1, one request into its window), which starts afresh
  await ask('198.51.100.3')
  t.equal((await ask()).headers['x-ratelimit-remaining'], '1')
})

t.test('the fast lane asks before it spends: a spent budget is left to the routes to refuse', async (t) => {
  let now = 0
  const limit = createRestLimit({ max: 1, windowMs: 1000, now: () => now })
  t.ok(limit.allows('192.0.2.1'), 'an unknown address may')
  t.same(limit.spend('192.0.2.1'), { allowed: true, limit: '1', remaining: '0', reset: '1' })
  t.notOk(limit.allows('192.0.2.1'), 'the budget is spent')
  t.ok(limit.allows('192.0.2.2'))
  now = 1000
  t.ok(limit.allows('192.0.2.1'), 'a new window')
})

t.test('the trusted proxies as fastify reads them', async (t) => {
  t.equal(trustOf(false), undefined)
  t.ok(trustOf(true)?.('203.0.113.9', 5))
  const list = trustOf(['127.0.0.1', '10.0.0.0/8'])
  t.ok(list?.('10.1.2.3', 0))
  t.notOk(list?.('203.0.113.9', 0))
  const hops = (_address: string, hop: number): boolean => hop < 1
  t.equal(trustOf(hops), hops)
})
