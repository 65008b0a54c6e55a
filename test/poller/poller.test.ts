import t from 'tap'
import { Agent } from 'undici'
import { RatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'
import { createPoller } from '../../src/poller/poller.js'
import type { PollFailure, PollOutcome } from '../../src/poller/poller.js'
import type { FetchContext, Source } from '../../src/sources/source.js'
import { createUrlSource } from '../../src/sources/url-source.js'
import { fixtureServer } from '../support/fixture-server.js'
import { NO_COVERAGE } from '../support/process.js'
import { until } from '../support/until.js'

const quote: Quote = { base: 'KZT', inverse: 509.87, date: '2025-11-26', relErr: 1e-5, cadence: 'daily' }

function setup (t: Tap, sources: Source[], intervalMs = 1000, timeoutMs = 1000) {
  const dispatcher = new Agent()
  const lines: Array<{ level: string, obj: Record<string, unknown>, msg: string }> = []
  const outcomes: PollOutcome[] = []
  const failures: PollFailure[] = []
  const poller = createPoller({
    sources,
    dispatcher,
    intervalMs,
    timeoutMs,
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
  t.equal(seen[0]?.cache.size, 0, 'an empty conditional-request cache')
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
  await until(() => failures.length >= 4, { timeoutMs: 5000, what: 'four failures' })
  t.same(failures.map((f) => f.consecutiveFailures), [1, 2, 3, 4])
  t.same(failures.map((f) => f.retryInMs), [20, 40, 80, 160], 'doubling from the base (jitter fixed at its midpoint)')
  t.same(failures[0]?.error, { code: 'RATES_SOURCE_HTTP', message: 'cbr: upstream answered HTTP 503', upstreamStatus: 503 })
  t.equal(poller.health()[0]?.consecutiveFailures, 4)
  t.equal(poller.health()[0]?.lastError, 'cbr: upstream answered HTTP 503')
  t.equal(poller.health()[0]?.lastErrorCode, 'RATES_SOURCE_HTTP')
  const warnings = lines.filter((l) => l.level === 'warn')
  t.equal(warnings.length, 4)
  t.notOk(warnings.some((l) => 'err' in l.obj || 'stack' in l.obj || JSON.stringify(l.obj).includes('    at ')), 'no stack traces')
  await until(() => outcomes.length >= 1, { timeoutMs: 5000, what: 'recovery' })
  t.equal(poller.health()[0]?.consecutiveFailures, 0)
  t.equal(poller.health()[0]?.ok, true)
})

t.test('the retry delay is capped at the poll interval', async (t) => {
  const source: Source = { id: 'cbt', fetchQuotes: async () => { throw new RatesError('RATES_SOURCE_NETWORK', 'cbt: ECONNREFUSED', 502) } }
  const { poller, failures } = setup(t, [source], 100)
  poller.start()
  await until(() => failures.length >= 5, { timeoutMs: 5000, what: 'five failures' })
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

// The poll deadline is twice the per-request timeout: a source asks for at most two URLs a poll.
const TIMEOUT_MS = 150
const DEADLINE_MS = TIMEOUT_MS * 2

t.test('an adapter that ignores its signal cannot hold the loop: the poll fails at its deadline and is retried', async (t) => {
  let calls = 0
  const source: Source = { id: 'nbk', fetchQuotes: async () => { calls++; return await new Promise<Quote[]>(() => {}) } }
  const { poller, failures } = setup(t, [source], 5000, TIMEOUT_MS)
  poller.start()
  await until(() => failures.length >= 2, { timeoutMs: DEADLINE_MS * 10, what: 'two timed-out polls' })
  t.match(failures[0], { source: 'nbk', error: { code: 'RATES_SOURCE_TIMEOUT', message: `nbk: poll exceeded its ${DEADLINE_MS} ms deadline` }, consecutiveFailures: 1 })
  t.ok((failures[0]?.durationMs ?? 0) >= DEADLINE_MS - 5 && (failures[0]?.durationMs ?? Infinity) < DEADLINE_MS * 2, `failed after ${failures[0]?.durationMs} ms`)
  t.ok(calls >= 2, 'the next poll was scheduled')
  t.match(poller.health()[0], { ok: false, lastError: /deadline/ })
})

t.test('stop does not wait for an adapter that ignores its signal', async (t) => {
  let calls = 0
  const source: Source = { id: 'cbt', fetchQuotes: async () => { calls++; return await new Promise<Quote[]>(() => {}) } }
  const timeoutMs = 5000
  const { poller, failures } = setup(t, [source], 60_000, timeoutMs)
  poller.start()
  await until(() => calls === 1)
  const started = Date.now()
  await poller.stop()
  t.ok(Date.now() - started < timeoutMs / 2, `stopped after ${Date.now() - started} ms, not at the ${timeoutMs * 2} ms deadline`)
  t.equal(failures.length, 0, 'a stopped poll is not a failure')
})

t.test('an adapter that honours its signal sees it abort at the deadline with the timeout as reason', async (t) => {
  const reasons: unknown[] = []
  const source: Source = {
    id: 'cbu',
    fetchQuotes: async (ctx) => await new Promise<Quote[]>((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => { reasons.push(ctx.signal.reason); reject(ctx.signal.reason) })
    })
  }
  const { poller, failures } = setup(t, [source], 5000, TIMEOUT_MS)
  poller.start()
  await until(() => failures.length >= 1, { timeoutMs: DEADLINE_MS * 10, what: 'a timed-out poll' })
  t.match(reasons[0], { code: 'RATES_SOURCE_TIMEOUT' })
  t.equal(failures[0]?.error.code, 'RATES_SOURCE_TIMEOUT')
})

t.test('a dripping upstream body fails the poll within the deadline, marks the source down and is polled again', async (t) => {
  let requests = 0
  const server = await fixtureServer(t, (_req, res) => {
    requests++
    res.writeHead(200, { 'content-type': 'application/json' })
    const timer = setInterval(() => res.write(' '), TIMEOUT_MS / 8)
    res.on('close', () => clearInterval(timer))
  })
  const source = createUrlSource('frankfurter', `${server.url}/latest`, () => [quote])
  const { poller, failures, outcomes } = setup(t, [source], 5000, TIMEOUT_MS)
  poller.start()
  await until(() => failures.length >= 2, { timeoutMs: DEADLINE_MS * 10, what: 'two failed polls' })
  t.equal(failures[0]?.error.code, 'RATES_SOURCE_TIMEOUT')
  t.ok(failures.every((f) => f.durationMs < DEADLINE_MS * 2), `durations ${failures.map((f) => f.durationMs).join(', ')} ms`)
  t.ok(requests >= 2)
  t.equal(outcomes.length, 0)
  t.equal(poller.health()[0]?.ok, false)
})

t.test('the conditional-request cache of a source with dated URLs stays bounded', async (t) => {
  let day = 0
  const server = await fixtureServer(t, (req, res) => {
    res.writeHead(200, { etag: `"${req.url ?? ''}"`, 'content-type': 'application/json' }).end('{}')
  })
  const caches = new Set<FetchContext['cache']>()
  const dated: Source = {
    id: 'cbr',
    fetchQuotes: async (ctx) => {
      caches.add(ctx.cache)
      day++
      return await createUrlSource('cbr', `${server.url}/daily/${day}`, () => [quote]).fetchQuotes(ctx)
    }
  }
  const { poller, outcomes } = setup(t, [dated], 50)
  poller.start()
  await until(() => outcomes.length >= 20, { timeoutMs: 10_000, what: 'twenty polls' })
  t.equal(caches.size, 1, 'one cache per source, kept across polls')
  const [cache] = [...caches]
  t.ok((cache?.size ?? Infinity) <= 4, `${cache?.size} entries after ${day} dated URLs`)
})

t.test('a poll deadline survives garbage collection (child process under --expose-gc)', async (t) => {
  // a longer deadline than above: the child collects garbage every few ticks on a shared machine
  const timeoutMs = 500
  const deadlineMs = timeoutMs * 2
  const poller = new URL('../../src/poller/poller.js', import.meta.url).href
  const urlSource = new URL('../../src/sources/url-source.js', import.meta.url).href
  const script = `
    import { createServer } from 'node:http'
    import { Agent } from 'undici'
    const { createPoller } = await import(${JSON.stringify(poller)})
    const { createUrlSource } = await import(${JSON.stringify(urlSource)})
    const server = createServer((_req, res) => {
      res.writeHead(200)
      const timer = setInterval(() => res.write(' '), ${timeoutMs / 10})
      res.on('close', () => clearInterval(timer))
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    const result = { failures: [], aborted: null }
    const started = Date.now()
    const watcher = {
      id: 'nbk',
      fetchQuotes: (ctx) => new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => { result.aborted = Date.now() - started; reject(ctx.signal.reason) })
      })
    }
    const drip = createUrlSource('cbr', 'http://127.0.0.1:' + server.address().port + '/', () => [])
    const dispatcher = new Agent()
    const p = createPoller({
      sources: [watcher, drip], dispatcher, intervalMs: 60000, timeoutMs: ${timeoutMs}, maxBytes: 10000, userAgent: 'test',
      random: () => 0, onQuotes: () => {}, onFailure: (f) => { result.failures.push({ source: f.source, code: f.error.code, durationMs: f.durationMs }) },
      log: { info () {}, warn () {} }
    })
    const gc = setInterval(() => globalThis.gc(), 25)
    p.start()
    const deadline = Date.now() + ${deadlineMs * 5}
    while (result.failures.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    clearInterval(gc)
    process.stdout.write(JSON.stringify(result))
    process.exit(0)
  `
  const { execFile } = await import('node:child_process')
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000, env: { ...process.env, ...NO_COVERAGE } }, (err, out, errOut) => {
      if (err !== null) reject(new Error(`${err.message}\n${errOut}`))
      else resolve(out)
    })
  })
  const result = JSON.parse(stdout) as { failures: Array<{ source: string, code: string, durationMs: number }>, aborted: number | null }
  t.same(result.failures.map((f) => f.source).sort(), ['cbr', 'nbk'], 'both polls ended')
  t.ok(result.failures.every((f) => f.code === 'RATES_SOURCE_TIMEOUT' && f.durationMs < deadlineMs + timeoutMs), JSON.stringify(result.failures))
  t.ok(result.aborted !== null, 'the adapter saw its signal abort')
})
