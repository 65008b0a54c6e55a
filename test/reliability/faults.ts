import { duplicate, jump, mapDates, poison } from './formats.js'
import type { Fault, TransportFault } from './upstream.js'
import { plusDays, today } from './scope.js'

/**
 * What the service must do about a fault:
 * - `refused`: the source is marked failing and nothing it sent is used: the published rates do not change;
 * - `tolerated`: the source may stay healthy, but nothing wrong is published (outliers are outvoted);
 * - `moves`: every source agrees on the new values, so they are published.
 */
export type Expectation = 'refused' | 'tolerated' | 'moves'

export interface FaultKind {
  name: string
  /** What was injected, for the report. */
  injected: string
  fault: Fault
  expect: Expectation
  /** Injected into each source alone, into all at once, or both. */
  targets: 'each' | 'all' | 'both'
  /** Restart the service afterwards: what it persisted must not bring the fault back. */
  restart: boolean
  /**
   * A bad value of one quoted currency may also be dropped as an omission while the rest of the payload is
   * used (one bad row must not sink the table); a bad pivot quote spoils every cross, so it is always refused.
   */
  omittable?: boolean
  /** Keep the fault at least this many polls long: a deadline that fails only now and then needs the time. */
  polls?: number
}

const transport = (name: string, kind: TransportFault, injected: string): FaultKind =>
  ({ name, injected, fault: { transport: kind }, expect: 'refused', targets: 'all', restart: false })

const data = (name: string, injected: string, mutate: Fault['mutate'], expect: Expectation, restart = false, targets: FaultKind['targets'] = 'both', omittable = false): FaultKind =>
  ({ name, injected, fault: { mutate }, expect, targets, restart, omittable })

const dated = (move: (iso: string) => string) => (text: string): string => mapDates(text, move)

/** The upstream fault matrix: every kind is injected into every source. */
export function faultKinds (): FaultKind[] {
  const now = today()
  return [
    transport('connection refused', 'refused', 'nothing listens on the port'),
    transport('reset mid-body', 'reset', 'TCP RST after half of the declared body'),
    transport('no headers', 'no-headers', 'request read, never answered'),
    { ...transport('drip body', 'drip', 'one byte at a time, never ending, each within the body timeout, under REST load'), polls: 4 },
    transport('body over the cap', 'oversize', 'valid payload padded to twice FX_HTTP_MAX_BYTES, with and without Content-Length'),
    transport('HTTP 4xx/5xx', 'http-error', '404, 429, 500, 502, 503 with an HTML error page'),
    transport('HTML instead of data', 'html', 'a DDoS-Guard interstitial with status 200'),
    transport('truncated body', 'truncated', 'the first 60 % of the payload, cleanly ended'),
    transport('wrong encoding', 'encoding', 'the payload declared as UTF-16BE'),
    transport('empty body', 'empty', '200 with Content-Length: 0'),
    data('far-future date', 'value date 9999-12-31', dated(() => '9999-12-31'), 'refused', true),
    data('future date', 'value date 11 days ahead', dated(() => plusDays(now, 11)), 'refused', true),
    data('years-old date', 'value date 3 years back', dated((iso) => plusDays(iso, -3 * 365)), 'tolerated', true),
    data('zero value', '0 for the pivot\'s USD quote (USD-based feeds: KZT)', (t, id) => poison(t, id, '0'), 'refused', false, 'both', true),
    data('negative value', 'the same value negated', (t, id) => poison(t, id, '-'), 'refused', false, 'both', true),
    data('NaN value', 'NaN in place of the value', (t, id) => poison(t, id, 'NaN'), 'refused', false, 'both', true),
    data('subnormal value', '1.0E-320 in place of the value', (t, id) => poison(t, id, '1.0E-320'), 'refused', true, 'both', true),
    data('huge value', '1E308 in place of the value', (t, id) => poison(t, id, '1E308'), 'tolerated', true),
    data('duplicated currency', 'one currency listed twice, 5 % apart', (t, id) => duplicate(t, id), 'tolerated'),
    data('10× jump, one source', 'all five currencies 10× per USD from a single source', (t, id) => jump(t, id, 10), 'tolerated', false, 'each'),
    data('10× jump, every source', 'all five currencies 10× per USD from every source at once', (t, id) => jump(t, id, 10), 'moves', true, 'all')
  ]
}
