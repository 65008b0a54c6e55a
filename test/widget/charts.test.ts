import t from 'tap'
import type { Test } from 'tap'
import type { Page } from 'playwright-core'
import { artifact, buildWidget, launchBrowser, newPage, serve } from '../support/browser.js'
import type { Service } from '../support/browser.js'
import { until } from '../support/until.js'
import { fixings } from './history.js'

buildWidget()
const browser = await launchBrowser(t)

interface Teardown { teardown: (fn: () => unknown) => void }
interface Chart { base: string, official: number, consensus: number, points: number, max: string, min: string, values: number, from: string, to: string, label: string }

const LEVELS: Record<string, number> = { KGS: 87.45, KZT: 509.87, TJS: 9.1845, UZS: 12041.18, TMT: 3.5 }

/** 100 days of history before the published day, every seventh day by consensus; TMT flat at its peg. */
async function seeded (t: Teardown): Promise<Service> {
  const service = await serve(t)
  await service.app.store.saveArchive({
    archive: {},
    fixings: Object.fromEntries(Object.entries(LEVELS).map(([base, level]) => [base, fixings(100,
      (i) => base === 'TMT' ? level : level * (1 + 0.02 * Math.sin(i / 9) + 0.0001 * i),
      { basis: (i) => i % 7 === 3 && base !== 'TMT' ? 'consensus' : 'official' })]))
  })
  return service
}

async function charts (page: Page): Promise<Chart[]> {
  return await page.evaluate(`[...document.querySelectorAll('[data-fx-charts] .chart')].map((f) => ({
    base: f.dataset.base, official: f.querySelectorAll('circle.of').length, consensus: f.querySelectorAll('circle.co').length,
    points: f.querySelector('polyline')?.getAttribute('points').split(' ').length ?? 0,
    max: f.querySelector('.max')?.textContent, min: f.querySelector('.min')?.textContent, values: f.querySelectorAll('.max, .min').length,
    from: f.querySelector('.from')?.textContent, to: f.querySelector('.to')?.textContent, label: f.querySelector('svg')?.getAttribute('aria-label') ?? '' }))`) as Chart[]
}

async function open (t: Teardown, service: Service, multiMissing = false): Promise<{ page: Page, errors: string[], history: string[] }> {
  const page = await newPage(t, browser, { viewport: { width: 1000, height: 1400 } })
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  // a refused policy is reported on the console: the page's CSP must let its chart script run
  page.on('console', (m) => { if (m.type() === 'error' && !/^(Failed to load resource|WebSocket connection to .* failed)/.test(m.text())) errors.push(m.text()) })
  const seen: string[] = []
  // the page's sparkline ticker asks for its own 45 days
  page.on('request', (r) => { if (r.url().includes('/v1/history') && r.url().includes('days=90')) seen.push(new URL(r.url()).pathname + new URL(r.url()).search) })
  // a service from before the multi-symbol route answers it 404
  if (multiMissing) await page.route((url) => url.pathname === '/v1/history', async (route) => await route.fulfill({ status: 404, json: { error: 'RATES_NOT_FOUND', message: 'Route GET:/v1/history not found' } }))
  await page.goto(service.origin + '/')
  await until(async () => await page.evaluate('document.querySelector("[data-fx-charts]").getAttribute("aria-busy") === "false"'), { what: 'the charts' })
  return { page, errors, history: seen }
}

function checkFive (t: Test, got: Chart[], service: Service): void {
  t.same(got.map((c) => c.base), ['KGS', 'KZT', 'TJS', 'UZS', 'TMT'], 'five charts, in the order of the page')
  for (const c of got) {
    const held = service.app.store.history(c.base).slice(-90)
    const values = held.map((f) => f.inverse)
    t.equal(c.points, 90, `${c.base}: 90 days`)
    t.equal(c.official + c.consensus, 90, `${c.base}: a marker per fixing`)
    t.equal(c.consensus, held.filter((f) => f.basis === 'consensus').length, `${c.base}: consensus fixings marked apart`)
    t.equal(c.from, held[0]?.date, `${c.base}: first date`)
    t.equal(c.to, held.at(-1)?.date, `${c.base}: last date`)
    t.equal(Number(c.max?.replace(/,/g, '')).toPrecision(5), Math.max(...values).toPrecision(5), `${c.base}: max`)
    t.equal(Number(c.min?.replace(/,/g, '')).toPrecision(5), Math.min(...values).toPrecision(5), `${c.base}: min`)
    const flat = Math.min(...values) === Math.max(...values)
    t.match(c.label, new RegExp(`^${c.base} per USD from ${held[0]?.date} to ${held.at(-1)?.date}: ${flat ? 'unchanged at ' : 'between '}`))
    t.equal(c.values, flat ? 1 : 2, `${c.base}: ${flat ? 'one value label for a flat line' : 'its lowest and highest value'}`)
  }
}

t.test('the demo page shows a 90-day chart per currency from the multi-symbol history, under its own CSP', async (t) => {
  const service = await seeded(t)
  const { page, errors, history } = await open(t, service)
  t.same(history, ['/v1/history?symbols=KGS,KZT,TJS,UZS,TMT&days=90'], 'one request for the five')
  const got = await charts(page)
  checkFive(t, got, service)
  t.ok(got.some((c) => c.consensus > 0), 'the basis is visible')
  t.equal(await page.evaluate('document.querySelectorAll(".legend .of, .legend .co").length'), 2, 'and explained by a legend')
  await page.locator('[data-fx-charts]').scrollIntoViewIfNeeded()
  await page.screenshot({ path: artifact('demo.png'), fullPage: true })
  t.same(errors, [])
})

t.test('where the service has only the per-base history, the page asks for each base', async (t) => {
  const service = await seeded(t)
  const { page, errors, history } = await open(t, service, true)
  t.same(history.slice(1).sort(), ['KGS', 'KZT', 'TJS', 'TMT', 'UZS'].map((b) => `/v1/history/${b}?days=90`))
  checkFive(t, await charts(page), service)
  t.same(errors, [])
})

t.test('a currency without history yet says so; an unavailable history leaves a line of text', async (t) => {
  const empty = await serve(t, { rates: null })
  const { page } = await open(t, empty)
  t.same((await charts(page)).map((c) => c.points), [0, 0, 0, 0, 0])
  t.match(await page.evaluate('document.querySelector("[data-fx-charts]").textContent'), /No history yet/)

  const down = await newPage(t, browser)
  await down.route((url) => url.pathname.startsWith('/v1/history'), (route) => route.fulfill({ status: 503, json: { error: 'Service Unavailable', message: 'not ready' } }))
  await down.goto(empty.origin + '/')
  await until(async () => await down.evaluate('document.querySelector("[data-fx-charts]").getAttribute("aria-busy") === "false"'), { what: 'the charts' })
  t.match(await down.evaluate('document.querySelector("[data-fx-charts]").textContent'), /not available/)
})
