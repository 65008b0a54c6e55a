import t from 'tap'
import type { Test } from 'tap'
import type { Page } from 'playwright-core'
import { buildWidget, fakePage, inShadow, launchBrowser, newPage, serve, waitForText, waitInShadow } from '../support/browser.js'
import type { Service } from '../support/browser.js'
import { fiveRates, publishInput, rate } from '../support/snapshot.js'
import { TOMORROW, fixings, historyRequests, loopbackPage } from './history.js'

buildWidget()
const browser = await launchBrowser(t)

interface Teardown { teardown: (fn: () => unknown) => void }
interface Line { cls: string, label: string | null, role: string | null, stroke: string, ys: number[] }

/** The service with 40 days of history before the published day: KZT/USD rising, UZS/USD falling, TMT flat. */
async function seeded (t: Teardown): Promise<Service> {
  const service = await serve(t)
  await service.app.store.saveArchive({
    archive: {},
    fixings: {
      KZT: fixings(40, (i) => 530 - i * 0.5 + (i % 3) * 0.2), // fewer tenge per dollar: the tenge rises
      UZS: fixings(40, (i) => 11800 + i * 6 - (i % 4) * 2),
      TMT: fixings(40, () => 3.5)
    }
  })
  return service
}

/** A page on a loopback origin of its own with `body` after the embed script; collects page errors and console errors. */
async function embed (t: Teardown, service: Service, body: string): Promise<{ page: Page, history: string[], errors: string[] }> {
  const page = await newPage(t, browser)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (m) => { if (m.type() === 'error' && !BROWSER.test(m.text())) errors.push(m.text()) })
  const history = await historyRequests(page)
  const url = await loopbackPage(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>
<script src="${service.origin}/widget.js" async></script>
${body}</body></html>`)
  await page.goto(url)
  return { page, history, errors }
}

const lines = async (page: Page): Promise<Line[]> => await inShadow<Line[]>(page, `
  return [...root.querySelector('.c > span').querySelectorAll('svg')].map((svg) => ({
    cls: svg.getAttribute('class'), label: svg.getAttribute('aria-label'), role: svg.getAttribute('role'),
    stroke: getComputedStyle(svg.querySelector('path')).stroke,
    ys: svg.querySelector('path').getAttribute('d').slice(1).split(' ').map((p) => Number(p.split(',')[1]))
  }))`)

/** Asserts that the y coordinates order the values the other way round (SVG y runs down). */
function ordered (t: Test, ys: number[], values: number[], what: string): void {
  let bad = 0
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < values.length; j++) {
      const a = values[i] as number
      const b = values[j] as number
      const ya = ys[i] as number
      const yb = ys[j] as number
      if ((a > b && !(ya < yb)) || (a === b && ya !== yb)) bad++
    }
  }
  t.ok(bad === 0, `${what}: every pair of points is drawn in the order of its prices`)
}

// Chromium's own lines about failed connections (a refused response, its local-network check on a test
// page's WebSocket, after which the widget moves to SSE): the browser's words, not the widget's
const BROWSER = /^(Failed to load resource|WebSocket connection to .* failed)/

const UP = 'rgb(10, 122, 53)'
const DOWN = 'rgb(192, 38, 45)'
const MUTED = 'rgb(95, 102, 112)'

t.test('<fx-ticker spark> draws the last 30 fixings per pair, coloured by direction, with the range as its text', async (t) => {
  const service = await seeded(t)
  const { page, history, errors } = await embed(t, service, '<fx-ticker spark symbols="KZT,UZS,TMT"></fx-ticker>')
  await waitInShadow(page, 'return root.querySelector(".c > span")?.querySelectorAll("svg").length === 3')
  const [kzt, uzs, tmt] = await lines(page) as [Line, Line, Line]
  t.same(history, ['/v1/history?symbols=KZT,UZS,TMT&days=45'], 'one history request for every pair shown')

  for (const [line, base] of [[kzt, 'KZT'], [uzs, 'UZS'], [tmt, 'TMT']] as const) {
    t.equal(line.ys.length, 30, `${base}: 30 points`)
    t.equal(line.role, 'img')
    const prices = service.app.store.history(base).slice(-30).map((f) => f.price)
    ordered(t, line.ys, prices, base)
    const lo = Math.min(...prices)
    const hi = Math.max(...prices)
    const m = /^30-day range ([\d.]+)–([\d.]+)$/.exec(line.label ?? '')
    t.ok(m, `${base}: "${line.label}" gives the range`)
    t.ok(Math.abs(Number(m?.[1]) / lo - 1) < 1e-3 && Math.abs(Number(m?.[2]) / hi - 1) < 1e-3, `${base}: from the lowest to the highest price`)
  }
  t.match(kzt.cls, /\bu\b/)
  t.equal(kzt.stroke, UP, 'a rising KZT/USD is drawn in the up colour')
  t.match(uzs.cls, /\bd\b/)
  t.equal(uzs.stroke, DOWN, 'a falling UZS/USD in the down colour')
  t.match(tmt.cls, /\bn\b/)
  t.equal(tmt.stroke, MUTED, 'the flat peg in the neutral colour')
  t.ok(tmt.ys.every((y) => y === 5), 'through the middle')

  const label = await inShadow<string>(page, 'return root.querySelector(".v").getAttribute("aria-label")')
  t.match(label, /KZT\/USD 0\.001961, 30-day range [\d.]+–[\d.]+, Nov 26, 2025/, 'the pair\'s accessible text names the range')
  t.same(errors, [])
})

t.test('live updates extend the sparkline: a newer date adds a point, the same date replaces the last', async (t) => {
  const service = await seeded(t)
  const { page, errors } = await embed(t, service, '<fx-ticker spark symbols="KZT"></fx-ticker>')
  await waitInShadow(page, 'return root.querySelector(".c > span")?.querySelectorAll("svg").length === 1')
  const before = (await lines(page))[0] as Line
  t.equal(before.ys.length, 30)

  // a new high: a strong tenge on the next day
  const publish = async (inverse: number): Promise<void> => {
    await service.app.store.publish(publishInput(fiveRates().map((r) => r.base === 'KZT' ? rate('KZT', inverse, { date: TOMORROW }) : r)))
  }
  await publish(480)
  await waitForText(page, ['0.002083'])
  const next = (await lines(page))[0] as Line
  t.equal(next.ys.length, 30, 'still 30 points: the oldest left')
  t.equal(next.ys.at(-1), 0, 'the new point is the highest')
  t.same(next.ys.slice(0, -1).map((y) => y > 0), Array(29).fill(true))
  t.not(next.ys[0], before.ys[1], 'the rest are scaled again')

  await publish(540)
  await waitForText(page, ['0.001852'])
  const replaced = (await lines(page))[0] as Line
  t.equal(replaced.ys.length, 30, 'the same date replaces the last point')
  t.equal(replaced.ys.at(-1), 10, 'which is now the lowest')
  t.match(replaced.cls, /\bd\b/, 'and the line now falls')
  t.same(errors, [])
})

for (const [what, answer] of [
  ['404', { status: 404, json: { error: 'Not Found', message: 'no such route' } }],
  ['503', { status: 503, json: { error: 'Service Unavailable', message: 'not ready' } }],
  ['a network error', null]
] as const) {
  t.test(`no history (${what}): no sparkline, the rest of the widget as it was, no error`, async (t) => {
    const service = await seeded(t)
    const page = await newPage(t, browser)
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    page.on('console', (m) => { if (m.type() === 'error' && !BROWSER.test(m.text())) errors.push(m.text()) })
    let asked = 0
    await page.route((url) => url.pathname.startsWith('/v1/history'), async (route) => {
      asked++
      if (answer === null) await route.abort('connectionfailed')
      else await route.fulfill(answer)
    })
    await fakePage(page, service.origin + '/embed.html', `<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>
<script src="${service.origin}/widget.js" async></script><fx-ticker spark symbols="KZT,UZS"></fx-ticker><fx-ticker symbols="KZT,UZS"></fx-ticker></body></html>`)
    const history = { predicate: (r: { url: () => string }) => r.url().includes('/v1/history'), timeout: 10_000 }
    const settled = answer === null ? page.waitForEvent('requestfailed', history) : page.waitForEvent('requestfinished', history)
    await page.goto(service.origin + '/embed.html')
    await waitForText(page, ['KZT', '0.001961', 'UZS', '0.00008305'])
    await settled
    // one more task on the page, by which the widget has read the answer
    await page.evaluate('new Promise((resolve) => setTimeout(resolve, 0))')
    t.equal(await inShadow<number>(page, 'return root.querySelectorAll("svg").length'), 0, 'no sparkline')
    t.equal(await inShadow<string>(page, 'return root.querySelector(".c > span").innerHTML'), await inShadow<string>(page, 'return root.querySelector(".c > span").innerHTML', 1),
      'the line is the one a ticker without sparklines shows')
    t.equal(asked, 1, 'one request')
    t.same(errors, [])
  })
}

t.test('without the attribute no history is asked for', async (t) => {
  const service = await seeded(t)
  const { page, history } = await embed(t, service, '<fx-ticker symbols="KZT,UZS"></fx-ticker><div data-fx-ticker data-symbols="TMT"></div>')
  await waitForText(page, ['KZT', 'UZS'])
  await waitForText(page, ['TMT'], 1)
  t.equal(await inShadow<number>(page, 'return root.querySelectorAll("svg").length'), 0)
  t.same(history, [])
})

t.test('a ticker with sparklines next to one without: one request, and only that one draws them', async (t) => {
  const service = await seeded(t)
  const { page, history } = await embed(t, service, '<fx-ticker symbols="KZT"></fx-ticker><div data-fx-ticker data-spark data-symbols="KZT,UZS"></div>')
  await waitInShadow(page, 'return root.querySelector(".c > span")?.querySelectorAll("svg").length === 2', 1)
  t.equal(await inShadow<number>(page, 'return root.querySelectorAll("svg").length', 0), 0)
  t.equal(history.length, 1)
  t.match(history[0], /^\/v1\/history\?symbols=KZT,UZS&days=45$/)
})
