import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { artifact, buildWidget, fakePage, launchBrowser, inShadow, newPage, serve, tickerText, variedRates, waitForText, waitInShadow } from '../support/browser.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { until } from '../support/until.js'

buildWidget()
const browser = await launchBrowser(t)

const FIVE = ['KGS/USD = 0.01144', 'KZT/USD = 0.001961', 'TJS/USD = 0.1089', 'UZS/USD = 0.00008305', 'TMT/USD = 0.2857']

/** Records which transports the page used to reach the service. */
function transports (page: Page): { ws: string[], sse: number, polls: number[] } {
  const seen = { ws: [] as string[], sse: 0, polls: [] as number[] }
  page.on('websocket', (ws) => { ws.on('framereceived', (f) => { seen.ws.push(String(f.payload)) }) })
  page.on('response', (res) => {
    if (res.url().includes('/v1/stream')) seen.sse++
    if (res.url().includes('/v1/rates')) seen.polls.push(res.status())
  })
  return seen
}

t.test('the demo page shows all five pairs live and updates them in place', async (t) => {
  const { app, origin } = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser, { viewport: { width: 1100, height: 640 } })
  const seen = transports(page)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  // CSP violations and script errors surface on the console; failed loads are checked by status below
  page.on('console', (msg) => { if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text()) })
  // a service without the multi-symbol history answers it 404: the charts fall back to it per base, the sparklines go without
  const optional = (res: { status: () => number, url: () => string }): boolean => res.url().endsWith('/favicon.ico') || (res.status() === 404 && /\/v1\/history\?/.test(res.url()))
  page.on('response', (res) => { if (res.status() >= 400 && !optional(res)) errors.push(`${res.status()} ${res.url()}`) })
  await page.goto(origin + '/')
  await waitForText(page, FIVE)
  t.match(await tickerText(page), /TMT\/USD = 0\.2857 ▬ 0\.00% peg/)
  t.match(await tickerText(page, 1), /USD\/UZS = 12\.041,18/, 'the second demo ticker shows the inverse in German')
  await page.screenshot({ path: artifact('demo.png'), fullPage: true })
  await page.evaluate('document.querySelector("fx-ticker").mark = 42')

  await app.store.publish(publishInput(fiveRates({ KZT: 512.5 })))
  await waitForText(page, ['KZT/USD = 0.001951', 'KGS/USD = 0.01144'])
  t.equal(await page.evaluate('document.querySelector("fx-ticker").mark'), 42, 'the same element, no reload')
  t.ok(seen.ws.some((f) => f.includes('"snapshot"')), 'connected over WebSocket')
  t.same(seen.polls, [], 'no polling while the WebSocket works')
  t.same(errors, [], 'no page errors')
})

t.test('a stopped service shows offline after the grace period, a restarted one on the same port is found', async (t) => {
  // the server's restart close carries a jittered retry hint of up to FX_SHUTDOWN_RETRY_MS, which the widget honours
  const first = await serve(t, { env: { FX_SHUTDOWN_RETRY_MS: '200' } })
  const page = await newPage(t, browser)
  await fakePage(page, first.origin + '/embed.html', `<!doctype html><html lang="en"><body>
<script src="${first.origin}/widget.js" async></script>
<fx-ticker grace="300" retry="100"></fx-ticker></body></html>`)
  await page.goto(first.origin + '/embed.html')
  await waitForText(page, FIVE)
  t.equal(await inShadow(page, 'return root.querySelector(".s").textContent'), '', 'no offline indicator while live')

  await first.app.close()
  await waitInShadow(page, 'return root.querySelector(".s").textContent === "offline"', 0, 5000)
  t.match(await tickerText(page), /KZT\/USD = 0\.001961/, 'the last data stays while reconnecting')

  // seq survives a restart in production; the memory engine starts again at 1, so step past the old seq
  const second = await serve(t, { port: first.port })
  await second.app.store.publish(publishInput(fiveRates({ KZT: 520, UZS: 12500 })))
  await waitForText(page, ['KZT/USD = 0.001923', 'UZS/USD = 0.00008'], 0, 15_000)
  await waitInShadow(page, 'return root.querySelector(".s").textContent === ""', 0, 5000)
  t.pass('back online with the current data')
})

t.test('a page on another origin embeds the widget', async (t) => {
  let html = ''
  const other = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html) })
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { other.closeAllConnections(); other.close(resolve) }))
  const pageOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
  const { origin } = await serve(t, { env: { CORS_ORIGINS: pageOrigin } })
  html = `<!doctype html><html lang="en"><head><title>News</title></head><body><h1>Markets</h1>
<script src="${origin}/widget.js" async></script>
<fx-ticker symbols="KZT,UZS"></fx-ticker></body></html>`
  const page = await newPage(t, browser)
  const seen = transports(page)
  await page.goto(pageOrigin + '/')
  await waitForText(page, ['KZT/USD = 0.001961', 'UZS/USD = 0.00008305'])
  t.notMatch(await tickerText(page), /KGS/, 'only the symbols asked for')
  t.ok(seen.ws.some((f) => f.includes('"snapshot"')), 'the cross-origin WebSocket was accepted')
})

t.test('a blocked WebSocket falls back to SSE', async (t) => {
  const { app, origin } = await serve(t)
  const page = await newPage(t, browser)
  const seen = transports(page)
  await page.routeWebSocket(/\/v1\/ws/, (ws) => { ws.close() })
  await fakePage(page, origin + '/embed.html', `<!doctype html><html lang="en"><body>
<script src="${origin}/widget.js" async></script><fx-ticker retry="50"></fx-ticker></body></html>`)
  await page.goto(origin + '/embed.html')
  await waitForText(page, FIVE)
  await app.store.publish(publishInput(fiveRates({ TJS: 9.5 })))
  await waitForText(page, ['TJS/USD = 0.1053'])
  t.ok(seen.sse > 0, 'the data came over /v1/stream')
  t.same(seen.polls, [], 'without polling')
})

t.test('with WebSocket and SSE blocked it polls /v1/rates with If-None-Match', async (t) => {
  const { app, origin } = await serve(t)
  const page = await newPage(t, browser)
  const seen = transports(page)
  const tags: string[] = []
  await page.routeWebSocket(/\/v1\/ws/, (ws) => { ws.close() })
  await page.route(/\/v1\/stream/, (route) => route.abort())
  page.on('request', (req) => { if (req.url().includes('/v1/rates')) tags.push(req.headers()['if-none-match'] ?? '') })
  await fakePage(page, origin + '/embed.html', `<!doctype html><html lang="en"><body>
<script src="${origin}/widget.js" async></script><fx-ticker retry="50" poll="150"></fx-ticker></body></html>`)
  await page.goto(origin + '/embed.html')
  await waitForText(page, FIVE)
  await until(() => seen.polls.includes(304), { timeoutMs: 5000 })
  await app.store.publish(publishInput(fiveRates({ TJS: 9.5 })))
  await waitForText(page, ['TJS/USD = 0.1053'])
  t.ok(seen.polls.includes(200), 'polled')
  t.ok(seen.polls.includes(304), 'an unchanged snapshot answered 304')
  t.ok(tags.some((tag) => /^"\d+/.test(tag)), 'sent the ETag back')
})

t.test('one failed SSE connection is one: the next one is SSE again, not polling', async (t) => {
  const { origin } = await serve(t)
  const page = await newPage(t, browser)
  const seen = transports(page)
  let streams = 0
  await page.routeWebSocket(/\/v1\/ws/, (ws) => { ws.close() })
  await page.route(/\/v1\/stream/, (route) => ++streams === 1 ? route.abort() : route.continue())
  await fakePage(page, origin + '/embed.html', `<!doctype html><html lang="en"><body>
<script src="${origin}/widget.js" async></script><fx-ticker retry="50"></fx-ticker></body></html>`)
  await page.goto(origin + '/embed.html')
  await waitForText(page, FIVE)
  t.equal(streams, 2, 'a second /v1/stream after the failed one')
  t.same(seen.polls, [], 'without moving on to polling')
})

t.test('a page with the default snippet gets its data over WebSocket, not a fallback', async (t) => {
  const { app, origin } = await serve(t)
  const page = await newPage(t, browser)
  const seen = transports(page)
  const refused: string[] = []
  page.on('console', (msg) => { if (/WebSocket/.test(msg.text())) refused.push(msg.text()) })
  await fakePage(page, origin + '/embed.html', `<!doctype html><html lang="en"><body>
<script src="${origin}/widget.js" async></script><fx-ticker></fx-ticker></body></html>`)
  await page.goto(origin + '/embed.html')
  await waitForText(page, FIVE)
  t.ok(seen.ws.some((f) => f.includes('"snapshot"')), 'the snapshot came in a WebSocket frame')
  t.equal(seen.sse, 0, 'no /v1/stream')
  t.same(seen.polls, [], 'no polling')
  t.same(refused, [], 'no WebSocket error on the console')
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /^fx_push_clients\{transport="ws"\} 1$/m, 'the service counts one WebSocket client')
  t.notMatch(metrics, /^fx_push_clients\{transport="sse"\} [1-9]/m, 'and no SSE client')
})
