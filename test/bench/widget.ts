// Widget: the built script's gzip and brotli sizes, the total of the scripts a page with `spark` loads (the
// script and the parts it imports, as Chromium fetched them once the sparklines and the tooltip are in),
// and the time from navigation to the five rates rendered in headless Chromium, on a page served from the
// service's origin, a fresh browser context per run.
//
//   node --import tsx test/bench/widget.ts [--quick]     BENCH_WIDGET_REPS (5)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { fakePage, launchBrowser, newPage } from '../support/browser.js'
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
try {
  writeState(stateDir)
  const port = await freePort()
  const svc = await startContender(0, [SERVER_JS], serviceEnv(stateDir, port), port, '/v1/rates')
  cleanups.push(svc.stop)
  const browser = await launchBrowser(scope)
  for (let i = 0; i < REPS; i++) {
    const context = { teardown: (fn: () => unknown) => { cleanups.unshift(fn) } }
    const page = await newPage(context, browser)
    await fakePage(page, `${svc.origin}/bench.html`, `<!doctype html><html lang="en"><body>
<script src="${svc.origin}/widget.js" async></script>
<fx-ticker symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker></body></html>`)
    await page.goto(`${svc.origin}/bench.html`, { waitUntil: 'commit' })
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
  await fakePage(page, `${svc.origin}/spark.html`, `<!doctype html><html lang="en"><body>
<script src="${svc.origin}/widget.js" async></script>
<fx-ticker spark symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker></body></html>`)
  const spark = page.waitForResponse((res) => /\/widget\.spark\.\w+\.js$/.test(res.url()), { timeout: 15_000 })
  await page.goto(`${svc.origin}/spark.html`)
  await spark
  // the tooltip's part follows the rates
  await page.waitForFunction('document.querySelector(\'fx-ticker\')?.shadowRoot?.querySelector(\'.tip\') !== null', undefined, { timeout: 15_000 })
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
    ['a `spark` page\'s scripts, gzip -9 bytes', sparkTotal],
    ['navigation to five rates, ms', show(rendered, 0)]
  ]) + `\na \`spark\` page loads ${sparkPage.size} scripts: ${sparkFiles}\n`)
writePart('widget', { raw: bundle.length, gzip, brotli, sparkPageGzip: sparkTotal, renderedMs: rendered })
