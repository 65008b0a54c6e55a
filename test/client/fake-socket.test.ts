import t from 'tap'
import { backoffDelay } from '../../src/client/backoff.js'
import { MAX_HINT_MS, retryHint } from '../../src/domain/protocol.js'
import { createTickerClient } from '../../src/client/client.js'
import type { SocketLike, TickerClientOptions, TickerStatus } from '../../src/client/client.js'
import { fiveRates } from '../support/snapshot.js'
import { until } from '../support/until.js'

// The client driven through a scripted socket: every event is delivered by the test, so the paths that a real
// server rarely takes (a constructor that throws, garbage frames, events after close) are exercised exactly.

class FakeSocket implements SocketLike {
  static made: FakeSocket[] = []
  static failNext = 0
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  sent: unknown[] = []
  closedWith: number | undefined
  constructor (readonly url: string) {
    if (FakeSocket.failNext > 0) {
      FakeSocket.failNext--
      throw new SyntaxError('bad url')
    }
    FakeSocket.made.push(this)
  }

  send (data: string): void { this.sent.push(JSON.parse(data)) }
  close (code = 1000): void { this.closedWith = code }
  message (value: unknown): void { this.onmessage?.({ data: typeof value === 'string' ? value : JSON.stringify(value) }) }
}

function open (t: { teardown: (fn: () => void) => void }, options: Partial<TickerClientOptions> = {}) {
  FakeSocket.made = []
  FakeSocket.failNext = 0
  const statuses: TickerStatus[] = []
  const events: string[] = []
  const c = createTickerClient({
    url: 'ws://127.0.0.1:1/v1/ws',
    WebSocket: FakeSocket,
    random: () => 0.5,
    backoff: { initialMs: 40, maxMs: 40 },
    onStatus: (s) => statuses.push(s),
    onSnapshot: (rates, seq) => events.push(`snapshot ${seq} ${rates.length}`),
    onUpdate: (rates, seq) => events.push(`update ${seq} ${rates.map((r) => r.base).join(',')}`),
    onServerError: (e) => events.push(`error ${e.code} ${e.message}`),
    ...options
  })
  t.teardown(() => c.close())
  return { c, statuses, events }
}

const latest = (): FakeSocket => FakeSocket.made.at(-1) as FakeSocket

t.test('without a WebSocket implementation the client refuses to start', async (t) => {
  t.throws(() => createTickerClient({ url: 'ws://127.0.0.1:1/v1/ws' }), { name: 'TypeError', message: /no WebSocket implementation/ })
})

t.test('a socket constructor that throws is retried after the backoff delay', async (t) => {
  FakeSocket.failNext = 1
  const statuses: TickerStatus[] = []
  FakeSocket.made = []
  const c = createTickerClient({ url: 'ws://127.0.0.1:1/v1/ws', WebSocket: FakeSocket, random: () => 0.5, backoff: { initialMs: 40 }, onStatus: (s) => statuses.push(s) })
  t.teardown(() => c.close())
  t.equal(FakeSocket.made.length, 0, 'the first attempt threw')
  t.match(c.status(), { connection: 'waiting', retryInMs: 20 }, 'half of the first cap, with random() = 0.5')
  await until(() => FakeSocket.made.length === 1, { timeoutMs: 40 * 50, what: 'the second attempt' })
  t.match(c.status(), { connection: 'connecting', retryInMs: null })
  t.same(statuses.map((s) => s.connection), ['connecting', 'waiting', 'connecting'])
})

t.test('frames that are not protocol messages are ignored', async (t) => {
  const { c, events, statuses } = open(t)
  const s = latest()
  s.onopen?.({})
  const before = statuses.length
  for (const garbage of ['not json', 'null', '42', '"text"', '{"no":"type"}', '{"type":7}']) s.message(garbage)
  t.same(events, [])
  t.equal(statuses.length, before, 'no status change')
  s.message({ type: 'snapshot', seq: 3, rates: fiveRates() })
  t.same(events, ['snapshot 3 5'], 'a valid message after them is still read')
  t.equal(c.status().seq, 3)
})

t.test('a server error is handed to onServerError and changes nothing else', async (t) => {
  const { c, events } = open(t)
  const s = latest()
  s.onopen?.({})
  s.message({ type: 'snapshot', seq: 1, rates: fiveRates() })
  s.message({ type: 'error', code: 'RATES_BAD_MESSAGE', message: 'symbols: unknown currency XYZ' })
  t.same(events, ['snapshot 1 5', 'error RATES_BAD_MESSAGE symbols: unknown currency XYZ'])
  t.match(c.status(), { connection: 'open', seq: 1 })
  t.equal(c.rates().length, 5)
})

t.test('a heartbeat sets the feed; it moves the seq only once the client holds the rates', async (t) => {
  const { c } = open(t)
  const s = latest()
  s.onopen?.({})
  s.message({ type: 'heartbeat', seq: 9, status: 'idle', nextExpectedAt: null })
  t.match(c.status(), { feed: 'idle', seq: 0 }, 'nothing held yet: the seq of a heartbeat is not ours')
  s.message({ type: 'snapshot', seq: 9, rates: fiveRates() })
  s.message({ type: 'heartbeat', seq: 11, status: 'live', nextExpectedAt: '2025-11-27T00:00:00.000Z' })
  t.match(c.status(), { feed: 'live', seq: 11, nextExpectedAt: '2025-11-27T00:00:00.000Z' }, 'a filtered client skips seqs')
  s.message({ type: 'heartbeat', seq: 10, status: 'live', nextExpectedAt: null })
  t.equal(c.status().seq, 11, 'never backwards')
})

t.test('a resumed link is current on a lone heartbeat at its seq, and resumes with since', async (t) => {
  const { c } = open(t)
  const first = latest()
  first.onopen?.({})
  first.message({ type: 'snapshot', seq: 4, rates: fiveRates() })
  first.onclose?.({ code: 1006, reason: '' })
  t.match(c.status(), { connection: 'waiting', retryInMs: 20 })
  await until(() => FakeSocket.made.length === 2, { timeoutMs: 40 * 50, what: 'the reconnect' })
  const second = latest()
  t.equal(new URL(second.url).searchParams.get('since'), '4')
  second.onopen?.({})
  second.message({ type: 'heartbeat', seq: 4, status: 'live', nextExpectedAt: null })
  second.message({ type: 'heartbeat', seq: 6, status: 'live', nextExpectedAt: null })
  t.equal(c.status().seq, 6, 'current again: later heartbeats move the seq')
})

t.test('subscribe: sent on an open socket, deferred while connecting, a new link for every currency', async (t) => {
  const { c } = open(t, { symbols: ['KZT'] })
  const s = latest()
  t.equal(new URL(s.url).searchParams.get('symbols'), 'KZT')
  c.subscribe(['TJS'])
  t.same(s.sent, [], 'nothing is sent before the socket opens')
  s.onopen?.({})
  t.same(s.sent, [{ type: 'subscribe', symbols: ['TJS'] }], 'the change is sent once it opens')
  c.subscribe(['UZS', 'KGS'])
  t.same(s.sent.at(-1), { type: 'subscribe', symbols: ['UZS', 'KGS'] })
  t.equal(c.status().seq, 0, 'what is held belongs to the old symbols')

  c.subscribe([])
  t.equal(FakeSocket.made.length, 2, 'every currency needs a new connection')
  t.equal(s.closedWith, 1000, 'the old socket is closed')
  t.equal(new URL(latest().url).searchParams.has('symbols'), false)
})

t.test('after close nothing reconnects, and events of the abandoned socket are ignored', async (t) => {
  const { c, events, statuses } = open(t)
  const s = latest()
  s.onopen?.({})
  c.close()
  c.close()
  t.equal(c.status().connection, 'closed')
  // a socket dispatches through its handler properties: detached, its late events reach nobody
  t.same([s.onopen, s.onmessage, s.onclose], [null, null, null], 'handlers are detached')
  t.doesNotThrow(() => s.onerror?.({}), 'a late error event is swallowed')
  s.message({ type: 'snapshot', seq: 1, rates: fiveRates() })
  c.subscribe([])
  t.equal(FakeSocket.made.length, 1, 'subscribing after close opens nothing')
  t.same(events, [])
  t.equal(statuses.filter((x) => x.connection === 'waiting').length, 0)
})

t.test('a server that stops talking is presumed dead after the heartbeat timeout', async (t) => {
  const HEARTBEAT_TIMEOUT_MS = 60
  const { c } = open(t, { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS })
  const s = latest()
  s.onopen?.({})
  s.message({ type: 'snapshot', seq: 1, rates: fiveRates() })
  await until(() => c.status().connection === 'waiting', { timeoutMs: HEARTBEAT_TIMEOUT_MS * 50, what: 'the watchdog' })
  t.equal(s.closedWith, 1000, 'the silent socket is closed')
})

t.test('backoff: full jitter under a cap that grows by the factor up to the maximum', async (t) => {
  const top = (): number => 1 - Number.EPSILON
  t.equal(backoffDelay(0, {}, top), 999, 'default first cap 1 s')
  t.equal(backoffDelay(3, { initialMs: 100, factor: 3 }, top), 2699)
  t.equal(backoffDelay(20, { initialMs: 100, maxMs: 5000 }, top), 4999, 'capped')
  t.equal(backoffDelay(-2, { initialMs: 100 }, top), 99, 'a negative attempt counts as the first')
  t.equal(backoffDelay(5, { initialMs: 100 }, () => 0), 0)
  const seen = Array.from({ length: 200 }, () => backoffDelay(2, { initialMs: 100 }))
  t.ok(seen.every((d) => Number.isInteger(d) && d >= 0 && d < 400), 'the default random stays within the cap')
  t.equal(retryHint(1013, `retry in ${MAX_HINT_MS + 1} ms`), MAX_HINT_MS)
  t.equal(retryHint(1013, 'retry in 1234567890 ms'), undefined, 'more digits than a hint can have')
})
