import type { Rate } from '../domain/rate.js'

/** One rendered pair: markup for the moving line and plain text for the accessible summary. */
export interface Item { html: string, text: string }

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
  const f = new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2 })
  const text = f.format(Math.abs(pct) / 100)
  if (text === f.format(0)) return ['n', '\u25AC', text]
  return pct > 0 ? ['u', '\u25B2', '+' + text] : ['d', '\u25BC', '\u2212' + text]
}

const WORDS = { u: 'up', d: 'down', n: 'unchanged' }

/** Renders one rate in BASE/USD or, with `inverse`, USD/BASE; `href` may contain `{base}`. */
export function formatItem (r: Rate, locale: string | undefined, inverse: boolean, href: string | null): Item {
  const pair = inverse ? `${r.quote}/${r.base}` : r.pair
  const value = formatPrice(inverse ? r.inverse : r.price, locale)
  let html = `<b>${esc(pair)}</b> = <span class="x">${value}</span>`
  let text = `${pair} ${value}`
  const c = r.change
  if (c !== null) {
    const pct = inverse ? (c.prevPrice / r.price - 1) * 100 : c.pct
    if (Number.isFinite(pct)) {
      const [dir, arrow, change] = formatChange(pct, locale)
      html += ` <span class="${dir}"><span aria-hidden="true">${arrow}</span> ${change}</span>`
      text += ` ${WORDS[dir]} ${change}`
    }
  }
  if (r.cadence === 'peg') {
    html += ' <span class="g" title="Pegged to the US dollar">peg</span>'
    text += ', peg'
  }
  if (r.stale) {
    html += ` <span class="g" title="Last fixing ${esc(r.date)}">stale</span>`
    text += `, stale since ${r.date}`
  }
  const tag = href === null ? 'span' : 'a'
  const link = href === null ? '' : ` href="${esc(href.replace('{base}', r.base))}"`
  return { html: `<${tag} class="i"${link}>${html}</${tag}>`, text }
}
