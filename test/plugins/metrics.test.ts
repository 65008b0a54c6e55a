import { spawnSync } from 'node:child_process'
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { RatesError } from '../../src/domain/errors.js'
import type { Quote } from '../../src/domain/rate.js'
import type { Source } from '../../src/sources/source.js'
import { build } from '../support/build.js'
import { until } from '../support/until.js'
import { publishInput, rate } from '../support/snapshot.js'

const POLL_MS = 200

/** A source whose next answer the test decides: quotes, or a failure. */
function scriptedSource (id: Source['id']): Source & { fail: boolean, polls: number } {
  const quote: Quote = { base: 'KZT', inverse: 509.87, date: '2025-11-26', relErr: 0, cadence: 'daily' }
  const source = {
    id,
    fail: false,
    polls: 0,
    async fetchQuotes (): Promise<Quote[]> {
      source.polls++
      if (source.fail) throw new RatesError('RATES_SOURCE_HTTP', `${id}: upstream answered 502`, 502)
      return [quote]
    }
  }
  return source
}

async function scrape (app: FastifyInstance): Promise<string> {
  const res = await app.inject('/metrics')
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`)
  return res.body
}

/** The value of the one series `name{labels}` in an exposition, or undefined when absent. */
function sample (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

// prom-client's standard Node.js gauges that end in _total: the names stock dashboards query, kept as they are
const STANDARD_NAME_LINT = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']
  .map((name) => `${name} non-counter metrics should not have "_total" suffix`))

/** `promtool check metrics`: a parse error fails; of the lint findings only the standard names above are tolerated. */
function promtool (t: Test, text: string): void {
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  t.equal(res.error, undefined, 'promtool runs (Debian package prometheus)')
  const findings = `${res.stdout}${res.stderr}`.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  t.ok(res.status === 0 || (res.status === 3 && findings.length > 0), `promtool parsed the exposition (exit ${res.status}): ${findings.join('; ')}`)
  t.same(findings.filter((f) => !STANDARD_NAME_LINT.has(f)), [], 'no lint finding on the service\'s own metrics')
}

t.test('the exposition passes promtool, with the Node process metrics under their standard names', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput([rate('KZT', 509.87)]))
  const text = await scrape(app)
  promtool(t, text)
  for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`)
  }
  t.notMatch(text, /^fx_(process|nodejs)_/m, 'no prefixed copies of the default metrics')
})

t.test('the age of each published rate counts from the start of its value date', async (t) => {
  const app = await build(t)
  await app.store.publish(publishInput([rate('KZT', 509.87, { date: '2025-11-26' }), rate('UZS', 12041.18, { date: '2025-11-20', stale: true })]))
  const before = Date.now()
  const text = await scrape(app)
  const after = Date.now()
  for (const [labels, date] of [['pair="KZT/USD",stale="false"', '2025-11-26'], ['pair="UZS/USD",stale="true"', '2025-11-20']] as const) {
    const age = sample(text, 'fx_rate_age_seconds', labels)
    const start = Date.parse(`${date}T00:00:00Z`)
    t.ok(age !== undefined && age >= (before - start) / 1000 && age <= (after - start) / 1000, `${labels}: ${age}`)
  }
})

t.test('per-source up and last success follow successful and failed polls', async (t) => {
  const good = scriptedSource('nbk')
  const bad = scriptedSource('cbr')
  bad.fail = true
  const app = await build(t, { sources: [good, bad], env: { FX_POLL_INTERVAL_MS: String(POLL_MS) } })
  const bound = POLL_MS * 50
  const startedAt = Date.now() / 1000
  let text = await until(async () => {
    const m = await scrape(app)
    return sample(m, 'fx_source_up', 'source="nbk"') === 1 && sample(m, 'fx_source_up', 'source="cbr"') === 0 && m
  }, { timeoutMs: bound, what: 'nbk up and cbr down' })
  const last = sample(text, 'fx_source_last_success_timestamp_seconds', 'source="nbk"') as number
  t.ok(last >= Math.floor(startedAt) && last <= Date.now() / 1000, `nbk last success ${last} is this run's poll`)
  t.equal(sample(text, 'fx_source_last_success_timestamp_seconds', 'source="cbr"'), 0, 'never succeeded: 0')
  t.ok((sample(text, 'fx_source_polls_total', 'source="cbr",outcome="RATES_SOURCE_HTTP"') ?? 0) >= 1, 'the failure is counted by its code')
  promtool(t, text)

  // nbk fails from now on: down, and its last success stays where it was
  good.fail = true
  bad.fail = false
  text = await until(async () => {
    const m = await scrape(app)
    return sample(m, 'fx_source_up', 'source="nbk"') === 0 && sample(m, 'fx_source_up', 'source="cbr"') === 1 && m
  }, { timeoutMs: bound, what: 'nbk down and cbr up' })
  t.equal(sample(text, 'fx_source_last_success_timestamp_seconds', 'source="nbk"'), last, 'a failed poll keeps the last success time')
  t.ok((sample(text, 'fx_source_last_success_timestamp_seconds', 'source="cbr"') ?? 0) >= last, 'cbr has succeeded since')
})

t.test('an instance that polls nothing reports no source series', async (t) => {
  const app = await build(t)
  const text = await scrape(app)
  t.notMatch(text, /^fx_source_up\{/m)
  t.notMatch(text, /^fx_source_last_success_timestamp_seconds\{/m)
  t.match(text, /^# TYPE fx_source_up gauge/m)
})
