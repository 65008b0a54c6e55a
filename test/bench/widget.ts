// Widget: the built script's gzip and brotli sizes, and the time from navigation to the five rates rendered in
// headless Chromium, a fresh browser context per run, on a page served from a loopback server of its own, as an
// embedding site's page comes from its host. Every run must have loaded the one script and got its rates over
// WebSocket: a run that fell back to SSE or polling, or loaded any other script, would measure another page.
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
// the scripts the runs' pages fetched from the service, and the runs that got their snapshot over WebSocket
const scripts = new Set<string>()
let overWs = 0
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
    let ws = false
    page.on('websocket', (socket) => { socket.on('framereceived', (f) => { if (String(f.payload).includes('"snapshot"')) ws = true }) })
    page.on('response', (res) => { if (res.url().startsWith(svc.origin) && res.url().endsWith('.js')) scripts.add(new URL(res.url()).pathname) })
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
    if (ws) overWs++
    await page.context().close()
  }
} finally {
  for (const fn of cleanups) await fn()
  rmSync(stateDir, { recursive: true, force: true })
}
if (overWs < REPS) throw new Error(`${REPS - overWs} of ${REPS} runs did not get their rates over WebSocket`)
if (scripts.size !== 1) throw new Error(`the pages loaded ${[...scripts].join(', ')}, not the one script`)
const rendered = figure(times)
process.stdout.write(`widget: dist/widget/widget.js; time from navigation to the five rates rendered, ${REPS} runs in headless Chromium, each over WebSocket\n\n` +
  table(['measure', 'value'], [
    ['raw bytes', bundle.length],
    ['gzip -9 bytes', gzip],
    ['brotli q11 bytes', brotli],
    ['navigation to five rates, ms', show(rendered, 0)]
  ]) + '\n')
writePart('widget', { raw: bundle.length, gzip, brotli, renderedMs: rendered })
