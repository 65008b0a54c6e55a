import type { Rate } from '../domain/rate.js'
import type { Spark } from './sparks.js'
import { W, bankOf } from './words.js'

/** One rendered pair: markup for the moving line and plain text for the accessible summary. */
export interface Item { html: string, text: string }

/** What every item of one ticker is rendered with, built once per render. */
export interface Look {
  locale: string | undefined
  words: string[]
  /** USD/BASE rather than BASE/USD. */
  flip: boolean
  /** The link of each pair, `{base}` replaced; null for none. */
  link: string | null
  /** The sparklines' points, when the ticker shows them. */
  spark?: Spark | undefined
  /** A value date (YYYY-MM-DD) and a currency's name in the words' language. */
  dateOf: (iso: string) => string
  nameOf: (code: string) => string
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * At least four significant digits, and every integer digit plus two decimals on large numbers:
 * UZS/USD stays 0.00008305 instead of collapsing to 0.00008, USD/UZS stays 12,041.18.
 */
export function formatPrice (x: number, locale: string | undefined): string {
  const digits = Math.min(21, Math.max(4, Math.floor(Math.log10(x)) + 3))
  return new Intl.NumberFormat(locale, { maximumSignificantDigits: digits }).format(x)
}

/**
 * A change as [direction, arrow, text]: a real minus sign U+2212, and a change that rounds to
 * zero is unchanged `0.00%`, never `-0.00%`.
 */
export function formatChange (pct: number, locale: string | undefined): [dir: 'u' | 'd' | 'n', arrow: string, text: string] {
  // the percent style rounds to at most max(minimumFractionDigits, 0) decimals: 2
  const f = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 2 })
  const text = f.format(Math.abs(pct) / 100)
  if (text === f.format(0)) return ['n', '\u25AC', text]
  return pct > 0 ? ['u', '\u25B2', '+' + text] : ['d', '\u25BC', '\u2212' + text]
}

/**
 * Renders one rate in BASE/USD or, with `flip`, USD/BASE; `link` may contain `{base}`. The value date
 * and the basis (the home bank's name, consensus or peg) go to the tooltip (`data-t`) and the accessible
 * text, not into the line, so the line does not widen.
 */
export function formatItem (r: Rate, look: Look): Item {
  const { locale, words, flip: inverse, link: href } = look
  const pair = inverse ? `${r.quote}/${r.base}` : r.pair
  // the compact layout drops the quote of BASE/USD (`KZT 0.001961`); USD/BASE keeps it, or it would read the other way
  const value = formatPrice(inverse ? r.inverse : r.price, locale)
  const peg = r.cadence === 'peg'
  const basis = peg ? words[W.peg] : r.basis === 'consensus' ? words[W.consensus] : bankOf(r.base, words)
  const detail = [look.dateOf(r.date), basis].filter(Boolean).join(', ')
  let html = `<b>${inverse ? pair : `${r.base}<span class="q">/${r.quote}</span>`}</b><span class="e"> =</span> ${value}`
  let text = `${look.nameOf(r.base)}, ${pair} ${value}`
  const c = r.change
  if (c !== null) {
    const pct = inverse ? (c.prevPrice / r.price - 1) * 100 : c.pct
    if (Number.isFinite(pct)) {
      const [dir, arrow, change] = formatChange(pct, locale)
      html += ` <span class="${dir}"><span aria-hidden="true">${arrow}</span> ${change}</span>`
      text += ` ${words[W.up + 'udn'.indexOf(dir)]} ${change}`
    }
  }
  const points = look.spark?.[r.base]
  if (points !== undefined && points.length > 1) {
    const [svg, range] = sparkline(points.map((p) => inverse ? p.inverse : p.price), look)
    html += svg
    text += `, ${range}`
  }
  text += `, ${detail}`
  if (peg) html += ` <span class="g">${words[W.peg]}</span>`
  if (r.stale) {
    html += ` <span class="g">${words[W.stale]}</span>`
    text += `, ${words[W.stale]}`
  }
  const tag = href === null ? 'span' : 'a'
  const link = href === null ? '' : ` href="${esc(href.replace('{base}', r.base))}"`
  return { html: `<${tag} class="i"${link} tabindex="0" aria-describedby="tip" data-t="${esc(detail)}">${html}</${tag}>`, text }
}

/**
 * A line a few pixels high through `values`, highest on top, coloured as a change from the first to the
 * last would be; its accessible name is the range. [markup, accessible text]. Its size and stroke are
 * presentation attributes, so the widget's stylesheet needs no rule for it.
 */
function sparkline (values: number[], { locale, words }: Look): [string, string] {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const text = `${(words[W.range] as string).replace('#', `${values.length}`)} ${formatPrice(lo, locale)}\u2013${formatPrice(hi, locale)}`
  // 40 x 10 units in a 3em x .9em box (a unit of margin above and below for the stroke); y runs down from
  // the highest value, and a flat line runs through the middle
  const points = values.map((v, i) => `${i * 40 / (values.length - 1)},${hi > lo ? (hi - v) / (hi - lo) * 10 : 5}`).join(' ')
  const dir = formatChange(((values.at(-1) as number) / (values[0] as number) - 1) * 100, locale)[0]
  return [` <svg class="${dir}" width="3em" height=".9em" fill="none" stroke="currentColor" stroke-width="1.2" viewBox="0 -1 40 12" role="img" aria-label="${text}"><path d="M${points}"/></svg>`, text]
}
