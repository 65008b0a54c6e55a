import { Agent } from 'undici'
import type { FetchContext } from '../../src/sources/source.js'

/** A browser-like User-Agent: several upstreams (CBT, CBR) refuse curl-like ones. */
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 fx-ticker-test'

/** Wed 26 Nov 2025 09:00 UTC: a business day in every publisher's zone. */
export const NOW = new Date('2025-11-26T09:00:00Z')

interface Teardown { teardown: (fn: () => unknown) => void }

/** A FetchContext with its own undici Agent, closed when the test ends. */
export function fetchContext (t: Teardown, overrides: Partial<FetchContext> = {}): FetchContext {
  const dispatcher = new Agent({ keepAliveTimeout: 1000 })
  t.teardown(() => dispatcher.close())
  return {
    dispatcher,
    signal: AbortSignal.timeout(5000),
    now: NOW,
    cache: new Map(),
    userAgent: BROWSER_UA,
    timeoutMs: 5000,
    maxBytes: 2_000_000,
    ...overrides
  }
}
