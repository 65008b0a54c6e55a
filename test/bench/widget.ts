// Widget: the built script's gzip and brotli sizes, the total of the scripts a page with `spark` loads over a
// working WebSocket (as Chromium fetched them once the sparklines are drawn), the worst page (its WebSocket
// refused: the script and the fallbacks' part), and the time from navigation to the five rates rendered in
// headless Chromium, a fresh browser context per run. The pages come from a loopback server of their own, as
// an embedding site's pages come from its host: a page fulfilled by Playwright's `page.route` has no address,
// and Chromium's local network access checks refuse its WebSocket to the loopback service.
//
//   node --import tsx test/bench/widget.ts [--quick]     BENCH_WIDGET_REPS (5)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { launchBrowser, newPage } from '../support/browser.js'
import { ROOT } from '../support/process.js'
import { SERVER_JS, freePort, serviceEnv, startContender } from './procs.js'
import { writeState } from './state.js'
import { QUICK, figure, show, table, writePart } from './stats.js'

const REPS = Number(process.env.BENCH_WIDGET_REPS ?? (QUICK ? 2 : 5))
const PAIRS = ['KGS/USD', 'KZT/USD', 'TJS/USD', 'UZS/USD', 'TMT/USD']

const bundle = readFileSync(join(ROOT, 'dist', 'widget', 'widget.js'))
const gzip = gzipSync(bundle, { level: 9 }).length
const brotli = brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length

const cleanups: Array<() => unknown> = []
const scope = { teardown: (fn: () => unknown) => { cleanups.unshift(fn) } }
const stateDir = mkdtempSync(join(tmpdir(), 'fx-bench-widget-'))
const times: number[] = []
// what a page with sparklines fetched from the service that is script: path -> gzip -9 bytes
const sparkPage = new Map<string, number>()
const manifest = JSON.parse(readFileSync(join(ROOT, 'dist', 'widget', 'manifest.json'), 'utf8')) as { parts: { fallback: { gzip: number } } }
let sparkWs = false
// the pages, by path, served from 127.0.0.1
const pages: Record<string, string> = {}
const pageServer = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[req.url ?? ''] ?? '') })
try {
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => pageServer.close(resolve)))
  const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`
  writeState(stateDir)
  const port = await freePort()
  const svc = await startContender(0, [SERVER_JS], serviceEnv(stateDir, port), port, '/v1/rates')
  cleanups.push(svc.stop)
  const browser = await launchBrowser(scope)
  for (let i = 0; i < REPS; i++) {
    const context = { teardown: (fn: () => unknown) => { cleanups.unshift(fn) } }
    const page = await newPage(context, browser)
    pages['/bench.html'] = `<!doctype html><html lang="en"><body>
<script src="${svc.origin}/widget.js" async></script>
<fx-ticker symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker></body></html>`
    await page.goto(`${pageOrigin}/bench.html`, { waitUntil: 'commit' })
    // evaluated in the page each animation frame; returns the page's clock (ms since navigation) once rendered
    const handle = await page.waitForFunction(`(() => {
      const text = document.querySelector('fx-ticker')?.shadowRoot?.querySelector('.c > span')?.textContent ?? ''
      return ${JSON.stringify(PAIRS)}.every((p) => new RegExp(p.replace('/', '\\\\/') + ' = \\\\d').test(text)) && performance.now()
    })()`, undefined, { polling: 'raf', timeout: 15_000 })
    times.push(await handle.jsonValue() as number)
    await page.context().close()
  }
  const page = await newPage(scope, browser)
  const bodies: Array<Promise<void>> = []
  page.on('response', (res) => {
    const path = new URL(res.url()).pathname
    if (res.url().startsWith(svc.origin) && path.endsWith('.js')) bodies.push(res.body().then((b) => { sparkPage.set(path, gzipSync(b, { level: 9 }).length) }))
  })
  page.on('websocket', (ws) => { ws.on('framereceived', (f) => { if (String(f.payload).includes('"snapshot"')) sparkWs = true }) })
  pages['/spark.html'] = `<!doctype html><html lang="en"><body>
<script src="${svc.origin}/widget.js" async></script>
<fx-ticker spark symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker></body></html>`
  await page.goto(`${pageOrigin}/spark.html`)
  // the bench state has no history (FX_HISTORY_DAYS=0), so the line is drawn without sparklines; the rates
  // and the history request tell that the page has done what a `spark` page does at first paint
  const history = page.waitForResponse((res) => res.url().includes('/v1/history?'), { timeout: 15_000 })
  await page.waitForFunction('/ = \\d/.test(document.querySelector(\'fx-ticker\')?.shadowRoot?.querySelector(\'.c > span\')?.textContent ?? \'\')', undefined, { timeout: 15_000 })
  await history
  await Promise.all(bodies)
  await page.context().close()
} finally {
  for (const fn of cleanups) await fn()
  rmSync(stateDir, { recursive: true, force: true })
}
const rendered = figure(times)
const sparkTotal = [...sparkPage.values()].reduce((a, b) => a + b, 0)
const sparkFiles = [...sparkPage.keys()].map((p) => p.replace(/^\//, '')).sort().join(', ')
process.stdout.write(`widget: dist/widget/widget.js; time from navigation to the five rates rendered, ${REPS} runs in headless Chromium\n\n` +
  table(['measure', 'value'], [
    ['raw bytes', bundle.length],
    ['gzip -9 bytes', gzip],
    ['brotli q11 bytes', brotli],
    ['a `spark` page\'s scripts (WebSocket), gzip -9 bytes', sparkTotal],
    ['worst page (WebSocket refused: + fallbacks\' part), gzip -9 bytes', gzip + manifest.parts.fallback.gzip],
    ['navigation to five rates, ms', show(rendered, 0)]
  ]) + `\na \`spark\` page loads ${sparkPage.size} script(s) ${sparkWs ? 'over a working WebSocket' : 'WITHOUT a WebSocket (fell back)'}: ${sparkFiles}\n`)
writePart('widget', { raw: bundle.length, gzip, brotli, sparkPageGzip: sparkTotal, worstPageGzip: gzip + manifest.parts.fallback.gzip, renderedMs: rendered })
