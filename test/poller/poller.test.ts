import t from 'tap'
import { Agent } from 'undici'
import { RatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'
import { createPoller } from '../../src/poller/poller.js'
import type { PollFailure, PollOutcome } from '../../src/poller/poller.js'
import type { FetchContext, Source } from '../../src/sources/source.js'
import { until } from '../support/replay.js'

const quote: Quote = { base: 'KZT', inverse: 509.87, date: '2025-11-26', relErr: 1e-5, cadence: 'daily' }

function setup (t: Tap, sources: Source[], intervalMs = 1000) {
  const dispatcher = new Agent()
  const lines: Array<{ level: string, obj: Record<string, unknown>, msg: string }> = []
  const outcomes: PollOutcome[] = []
  const failures: PollFailure[] = []
  const poller = createPoller({
    sources,
    dispatcher,
    intervalMs,
    timeoutMs: 1000,
    maxBytes: 10_000,
    userAgent: 'test',
    retryBaseMs: 20,
    random: () => 0.5,
    onQuotes: (o) => { outcomes.push(o) },
    onFailure: (f) => { failures.push(f) },
    log: {
      info: (obj, msg) => { lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) },
      warn: (obj, msg) => { lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }) }
    }
  })
  t.teardown(async () => { await poller.stop(); await dispatcher.close() })
  return { poller, lines, outcomes, failures }
}
type Tap = { teardown: (fn: () => unknown) => void }

t.test('a healthy source is polled, its quotes handed on, and its health recorded', async (t) => {
  const seen: FetchContext[] = []
  const source: Source = { id: 'nbk', fetchQuotes: async (ctx) => { seen.push(ctx); return [quote] } }
  const { poller, lines, outcomes } = setup(t, [source])
  t.same(poller.health()[0], { id: 'nbk', ok: false, lastSuccessAt: null, lastErrorAt: null, lastError: null, lastErrorCode: null, consecutiveFailures: 0 })
  poller.start()
  await until(() => outcomes.length >= 1)
  t.same(outcomes[0]?.quotes, [quote])
  t.equal(poller.health()[0]?.ok, true)
  t.type(poller.health()[0]?.lastSuccessAt, 'string')
  t.match(lines[0], { level: 'info', msg: 'source poll succeeded', obj: { source: 'nbk', quotes: 1, dates: ['2025-11-26'] } })
  t.equal(seen[0]?.userAgent, 'test')
  t.ok(seen[0]?.cache instanceof Map)
})

t.test('failures retry with exponential backoff, one short log line each, and recover', async (t) => {
  let calls = 0
  const source: Source = {
    id: 'cbr',
    fetchQuotes: async () => {
      calls++
      if (calls <= 4) throw new RatesError('RATES_SOURCE_HTTP', 'cbr: upstream answered HTTP 503', 502, { upstreamStatus: 503 })
      return [quote]
    }
  }
  const { poller, lines, failures, outcomes } = setup(t, [source], 5000)
  poller.start()
  await until(() => failures.length >= 4, 5000, 'four failures')
  t.same(failures.map((f) => f.consecutiveFailures), [1, 2, 3, 4])
  t.same(failures.map((f) => f.retryInMs), [20, 40, 80, 160], 'doubling from the base (jitter fixed at its midpoint)')
  t.same(failures[0]?.error, { code: 'RATES_SOURCE_HTTP', message: 'cbr: upstream answered HTTP 503', upstreamStatus: 503 })
  t.equal(poller.health()[0]?.consecutiveFailures, 4)
  t.equal(poller.health()[0]?.lastError, 'cbr: upstream answered HTTP 503')
  t.equal(poller.health()[0]?.lastErrorCode, 'RATES_SOURCE_HTTP')
  const warnings = lines.filter((l) => l.level === 'warn')
  t.equal(warnings.length, 4)
  t.notOk(warnings.some((l) => 'err' in l.obj || 'stack' in l.obj || JSON.stringify(l.obj).includes('    at ')), 'no stack traces')
  await until(() => outcomes.length >= 1, 5000, 'recovery')
  t.equal(poller.health()[0]?.consecutiveFailures, 0)
  t.equal(poller.health()[0]?.ok, true)
})

t.test('the retry delay is capped at the poll interval', async (t) => {
  const source: Source = { id: 'cbt', fetchQuotes: async () => { throw new RatesError('RATES_SOURCE_NETWORK', 'cbt: ECONNREFUSED', 502) } }
  const { poller, failures } = setup(t, [source], 100)
  poller.start()
  await until(() => failures.length >= 5, 5000, 'five failures')
  t.ok(failures.every((f) => f.retryInMs <= 100))
  t.equal(failures[4]?.retryInMs, 100)
})

t.test('stop aborts an in-flight poll and schedules nothing more', async (t) => {
  let aborted = false
  let calls = 0
  const source: Source = {
    id: 'nbt',
    fetchQuotes: async (ctx) => {
      calls++
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => { aborted = true; resolve() }))
      return [quote]
    }
  }
  const { poller, outcomes } = setup(t, [source], 50)
  poller.start()
  await until(() => calls === 1)
  t.equal(poller.running(), true)
  await poller.stop()
  t.equal(aborted, true)
  t.equal(poller.running(), false)
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(calls, 1)
  t.equal(outcomes.length, 0, 'an aborted poll hands nothing on')
})
