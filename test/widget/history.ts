import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import type { Fixing } from '../../src/domain/rate.js'

/** Tomorrow's UTC date: fixings up to today lie inside the history API's `days` window. */
export const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)

/** `count` daily fixings before `end` (exclusive), oldest first, with `inverse(i)` units per USD on the i-th. */
export function fixings (count: number, inverse: (i: number) => number, { end = TOMORROW, basis = (_i: number): Fixing['basis'] => 'official' } = {}): Fixing[] {
  const last = Date.parse(end)
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(last - (count - i) * 86_400_000).toISOString().slice(0, 10)
    const inv = inverse(i)
    return { date, price: 1 / inv, inverse: inv, basis: basis(i), sources: ['cbr'] }
  })
}

/** Lists every history request the page makes. */
export async function historyRequests (page: Page): Promise<string[]> {
  const seen: string[] = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname.startsWith('/v1/history')) seen.push(url.pathname + url.search)
  })
  return seen
}

/**
 * Serves `body` from a server of its own on 127.0.0.1 and returns the page's URL: a page the browser
 * loaded from an address, on another origin than the service, as a real embedding page is loaded from its host.
 */
export async function loopbackPage (t: { teardown: (fn: () => unknown) => void }, body: string): Promise<string> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/embed.html`
}
