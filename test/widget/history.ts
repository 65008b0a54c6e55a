import type { Page } from 'playwright-core'
import type { Fixing } from '../../src/domain/rate.js'
import type { Service } from '../support/browser.js'

/** `count` daily fixings before `end` (exclusive), oldest first, with `inverse(i)` units per USD on the i-th. */
export function fixings (count: number, inverse: (i: number) => number, { end = '2025-11-26', basis = (_i: number): Fixing['basis'] => 'official' } = {}): Fixing[] {
  const last = Date.parse(end)
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(last - (count - i) * 86_400_000).toISOString().slice(0, 10)
    const inv = inverse(i)
    return { date, price: 1 / inv, inverse: inv, basis: basis(i), sources: ['cbr'] }
  })
}

/**
 * Answers `GET /v1/history?symbols=` for this page from the app's store (the newest `days` fixings per base,
 * as the per-base route does) wherever the service itself answers 404, and lists every history request.
 */
export async function historyStandIn (page: Page, service: Service): Promise<string[]> {
  const seen: string[] = []
  await page.route((url) => url.pathname.startsWith('/v1/history'), async (route) => {
    const url = new URL(route.request().url())
    seen.push(url.pathname + url.search)
    const real = await route.fetch()
    if (real.status() !== 404 || url.pathname !== '/v1/history') return await route.fulfill({ response: real })
    const days = Number(url.searchParams.get('days') ?? 30)
    const series = (url.searchParams.get('symbols') ?? '').split(',').map((base) => ({
      pair: `${base}/USD`, base, quote: 'USD', fixings: service.app.store.history(base).slice(-days)
    }))
    await route.fulfill({ json: { quote: 'USD', series } })
  })
  return seen
}
