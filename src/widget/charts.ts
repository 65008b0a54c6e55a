// The demo page's 90-day charts: a script of its own (not part of the widget bundle), served from the
// page's origin because the page's policy runs no inline script.

interface Point { date: string, inverse: number, basis: 'official' | 'consensus' }
interface Series { base: string, quote: string, fixings: Point[] }

const DAYS = 90
const W = 640
const H = 200
// room for the value labels on the left and the dates below
const LEFT = 100
const BOTTOM = 32
const TOP = 12

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const num = (x: number): string => x.toLocaleString('en', { maximumSignificantDigits: 5 })

/**
 * The last DAYS of fixings of every base, from the multi-symbol history; where the service has only the
 * per-base route (it answers the other with 404), one request per base.
 */
async function load (origin: string, symbols: string[]): Promise<Series[]> {
  const res = await fetch(`${origin}/v1/history?symbols=${symbols.join(',')}&days=${DAYS}`)
  if (res.ok) return ((await res.json()) as { series: Series[] }).series
  if (res.status !== 404) throw new Error(`history: ${res.status}`)
  return await Promise.all(symbols.map(async (base) => {
    const one = await fetch(`${origin}/v1/history/${base}?days=${DAYS}`)
    return one.ok ? await one.json() as Series : { base, quote: 'USD', fixings: [] }
  }))
}

/** One chart: units of the base per quote (as the central banks publish), official fixings filled, consensus hollow. */
function chart ({ base, quote, fixings }: Series): string {
  const head = `<h3>${esc(base)} per 1 ${esc(quote)}</h3>`
  if (fixings.length < 2) return `<figure class="chart" data-base="${esc(base)}">${head}<p>No history yet.</p></figure>`
  const values = fixings.map((f) => f.inverse)
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const x = (i: number): number => LEFT + (i * (W - LEFT - 8)) / (fixings.length - 1)
  const y = (v: number): number => hi > lo ? TOP + ((hi - v) * (H - TOP - BOTTOM)) / (hi - lo) : (H - BOTTOM + TOP) / 2
  const line = fixings.map((f, i) => `${x(i).toFixed(1)},${y(f.inverse).toFixed(1)}`).join(' ')
  const dots = fixings.map((f, i) => `<circle class="${f.basis === 'official' ? 'of' : 'co'}" cx="${x(i).toFixed(1)}" cy="${y(f.inverse).toFixed(1)}" r="2.5"><title>${esc(f.date)}: ${num(f.inverse)} (${esc(f.basis)})</title></circle>`).join('')
  const first = fixings[0] as Point
  const last = fixings[fixings.length - 1] as Point
  const label = `${base} per ${quote} from ${first.date} to ${last.date}: ${hi > lo ? `between ${num(lo)} and ${num(hi)}` : `unchanged at ${num(lo)}`}, last ${num(last.inverse)}`
  // a flat series (a peg) has one value: one label beside its line, not the same number twice
  const valueLabels = hi > lo
    ? `<text class="max" x="${LEFT - 6}" y="${TOP + 8}" text-anchor="end">${num(hi)}</text>` +
      `<text class="min" x="${LEFT - 6}" y="${H - BOTTOM}" text-anchor="end">${num(lo)}</text>`
    : `<text class="max min" x="${LEFT - 6}" y="${(y(lo) + 4).toFixed(1)}" text-anchor="end">${num(lo)}</text>`
  return `<figure class="chart" data-base="${esc(base)}">${head}` +
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}">` +
    `<line class="ax" x1="${LEFT}" y1="${H - BOTTOM}" x2="${W}" y2="${H - BOTTOM}"/><line class="ax" x1="${LEFT}" y1="0" x2="${LEFT}" y2="${H - BOTTOM}"/>` +
    valueLabels +
    `<text class="from" x="${LEFT}" y="${H - 6}">${esc(first.date)}</text>` +
    `<text class="to" x="${W}" y="${H - 6}" text-anchor="end">${esc(last.date)}</text>` +
    `<polyline points="${line}"/>${dots}</svg></figure>`
}

/** Fills every `[data-fx-charts]` element of the page with a chart per symbol in its `data-symbols`. */
async function main (): Promise<void> {
  for (const el of document.querySelectorAll<HTMLElement>('[data-fx-charts]')) {
    const symbols = (el.dataset.symbols ?? '').split(',').filter(Boolean)
    try {
      el.innerHTML = (await load(location.origin, symbols)).map(chart).join('')
    } catch {
      el.textContent = 'History is not available right now.'
    }
    el.setAttribute('aria-busy', 'false')
  }
}

main().catch(() => {})
