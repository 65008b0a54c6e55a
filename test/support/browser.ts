import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import type { Rate } from '../../src/domain/rate.js'
import { build } from './build.js'
import { fiveRates, publishInput } from './snapshot.js'
import { until } from './until.js'

interface Teardown { teardown: (fn: () => unknown) => void }

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const ARTIFACTS = join(ROOT, 'test', 'artifacts')

/** Bundles the widget from the current sources into dist/widget/, where the app serves it from. */
export function buildWidget (): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-widget.js')], { cwd: ROOT, stdio: 'pipe' })
}

/**
 * Debian's Chromium, headless and quiet on the network; closed when the test ends. Its local network access
 * checks are off: a page fulfilled by `fakePage` has no address, so Chromium would count it as public and
 * refuse its WebSocket (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS) and cross-origin fetches to the
 * service on 127.0.0.1, and the widget would quietly fall back to SSE. Started through chromium.sh, which
 * joins that --disable-features with Playwright's own (Chromium honours only the last one).
 */
export async function launchBrowser (t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: join(ROOT, 'test', 'support', 'chromium.sh'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      '--disable-features=LocalNetworkAccessChecks']
  })
  t.teardown(() => browser.close())
  return browser
}

/** A fresh page in its own context (no shared cache or storage between tests). */
export async function newPage (t: Teardown, browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 600 }, ...options })
  t.teardown(() => context.close())
  return await context.newPage()
}

export interface Service {
  app: FastifyInstance
  port: number
  origin: string
}

/** The app listening on 127.0.0.1 (port 0 unless given), with `rates` published unless null. */
export async function serve (t: Teardown, { env = {}, port = 0, rates = fiveRates() }: { env?: Record<string, string>, port?: number, rates?: Rate[] | null } = {}): Promise<Service> {
  const app = await build(t, { env })
  for (let attempt = 0; ; attempt++) {
    try {
      await app.listen({ port, host: '127.0.0.1' })
      break
    } catch (err) {
      // the port of a just-closed app can take a moment to be free again
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  if (rates !== null) await app.store.publish(publishInput(rates))
  const bound = (app.server.address() as AddressInfo).port
  return { app, port: bound, origin: `http://127.0.0.1:${bound}` }
}

/** Serves `body` as an HTML page at `url` to this page only, e.g. a test page on the service's origin. */
export async function fakePage (page: Page, url: string, body: string): Promise<void> {
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body }))
}

// page code is passed as strings: the Node type check has no DOM types, and the page has no Node ones
const ROOT_OF = (n: number): string => `document.querySelectorAll('fx-ticker, [data-fx-ticker]')[${n}]?.shadowRoot`

/** Runs `body` (with `root` bound to the n-th widget's shadow root) in the page and returns its result. */
export async function inShadow<R> (page: Page, body: string, n = 0): Promise<R> {
  return await page.evaluate(`(() => { const root = ${ROOT_OF(n)}; ${body} })()`) as R
}

/**
 * Waits, bounded, until `body` (with `root` bound as for inShadow) returns a truthy value. Polled from
 * here rather than with a waitForFunction string, which the demo page's CSP (no 'unsafe-eval') refuses.
 */
export async function waitInShadow (page: Page, body: string, n = 0, timeout = 10_000): Promise<void> {
  await until(async () => Boolean(await inShadow<unknown>(page, `if (!root) return false; ${body}`, n)), { timeoutMs: timeout, what: body })
}

/** The text of the accessible copy of the line in the n-th widget on the page. */
export async function tickerText (page: Page, n = 0): Promise<string> {
  return await inShadow<string>(page, 'return root?.querySelector(".c > span")?.textContent ?? ""', n)
}

/** Waits (bounded) until the n-th widget's line contains every one of `parts`. */
export async function waitForText (page: Page, parts: string[], n = 0, timeout = 10_000): Promise<void> {
  await waitInShadow(page, `const text = root.querySelector('.c > span')?.textContent ?? ''; return ${JSON.stringify(parts)}.every((p) => text.includes(p))`, n, timeout)
}

export function artifact (name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

/** The five rates with every kind of change and badge: up, down, a change that rounds to zero, none yet, a stale one and the peg. */
export function variedRates (): Rate[] {
  const changes: Record<string, number | null> = { KGS: 0.05, KZT: -0.12, TJS: -0.001, UZS: null, TMT: 0 }
  return fiveRates().map((r) => {
    const pct = changes[r.base]
    const prevPrice = pct === null || pct === undefined ? 0 : r.price / (1 + pct / 100)
    return {
      ...r,
      change: pct === null || pct === undefined ? null : { pct, abs: r.price - prevPrice, prevPrice, prevDate: '2025-11-25' },
      ...(r.base === 'TJS' && { stale: true, date: '2025-11-20' })
    }
  })
}
