import type { Rate } from '../domain/rate.js'
import { openFeed } from './feed.js'
import { formatItem } from './format.js'
import { CSS } from './style.js'

const HTML = '<div class="w" part="ticker"><button class="p" type="button" aria-pressed="false" aria-label="Pause exchange rates" title="Pause"></button>' +
  '<div class="v" role="marquee" aria-live="off" aria-label="Exchange rates loading"><div class="t"><div class="c"></div><div class="c" aria-hidden="true" inert></div></div></div>' +
  '<span class="s" role="status" title="Reconnecting; showing the last rates received"></span></div>'

let sheet: CSSStyleSheet | undefined

/** Gives the style to a shadow root; a constructed sheet is shared and is not blocked by a page's style-src CSP. */
function style (root: ShadowRoot): string {
  try {
    if (sheet === undefined) {
      sheet = new CSSStyleSheet()
      sheet.replaceSync(CSS)
    }
    root.adoptedStyleSheets = [sheet]
    return ''
  } catch {
    return `<style>${CSS}</style>`
  }
}

function pickLocale (wanted: string | null): string | undefined {
  for (const l of [wanted, document.documentElement.lang, navigator.language]) {
    try {
      if (l && Intl.NumberFormat.supportedLocalesOf(l).length > 0) return l
    } catch { /* an invalid tag: try the next one */ }
  }
  return undefined
}

/**
 * Renders a ticker into `host`'s shadow root and keeps it current from the service at `origin`
 * (the folder the script was loaded from) unless `src` overrides it. Returns the function that stops it.
 * Attributes are read plain (`<fx-ticker symbols>`) or with `data-` (`<div data-fx-ticker data-symbols>`).
 */
export function mount (host: HTMLElement, origin: string): () => void {
  const get = (name: string): string | null => host.getAttribute(name) ?? host.getAttribute('data-' + name)
  const num = (name: string, fallback: number): number => Number(get(name)) || fallback
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' })
  root.innerHTML = style(root) + HTML
  const $ = (s: string): HTMLElement => root.querySelector(s) as HTMLElement
  const w = $('.w')
  const v = $('.v')
  const track = $('.t')
  const [main, copy] = root.querySelectorAll<HTMLElement>('.c') as unknown as [HTMLElement, HTMLElement]
  const status = $('.s')
  const button = $('button')

  const symbols = (get('symbols') ?? '').toUpperCase().split(/[\s,]+/).filter(Boolean)
  const locale = pickLocale(get('locale'))
  const inverse = /^USD\//i.test(get('direction') ?? '')
  const href = get('href')
  const speed = num('speed', 50)
  const grace = num('grace', 10_000)
  const rates = new Map<string, Rate>()
  let seconds = 0
  let offline: ReturnType<typeof setTimeout> | undefined

  button.onclick = () => {
    button.setAttribute('aria-pressed', String(w.classList.toggle('h')))
  }

  const render = (): void => {
    const shown = [...rates.values()].sort((a, b) => symbols.indexOf(a.base) - symbols.indexOf(b.base))
    if (shown.length === 0) return
    const items = shown.map((r) => formatItem(r, locale, inverse, href))
    const html = items.map((i) => i.html).join('')
    v.setAttribute('aria-label', 'Exchange rates: ' + items.map((i) => i.text).join('; '))
    main.innerHTML = `<span>${html}</span>`
    // enough repeats per copy to fill the width, so the loop has no gap at the wrap
    const one = (main.firstChild as HTMLElement).getBoundingClientRect().width
    const n = one > 0 ? Math.max(1, Math.ceil(v.clientWidth / one)) : 1
    const hidden = `<span aria-hidden="true" inert>${html.replace(/<a /g, '<a tabindex="-1" ')}</span>`
    main.innerHTML += hidden.repeat(n - 1)
    copy.innerHTML = hidden.repeat(n)
    const s = (n * one) / speed
    // a new duration moves the line to a new phase, so only follow real width changes
    if (s > 0 && Math.abs(s - seconds) > seconds * 0.02) {
      seconds = s
      track.style.animationDuration = `${s.toFixed(2)}s`
    }
  }

  const showLive = (live: boolean): void => {
    if (live) {
      clearTimeout(offline)
      offline = undefined
      w.classList.remove('o')
      status.textContent = ''
    } else if (offline === undefined) {
      offline = setTimeout(() => {
        w.classList.add('o')
        status.textContent = 'offline'
      }, grace)
    }
  }
  showLive(false)

  const resize = new ResizeObserver(render)
  resize.observe(v)
  const stop = openFeed({
    base: new URL(get('src') ?? origin, location.href).href.replace(/\/?$/, '/'),
    symbols: symbols.join(','),
    retry: num('retry', 1000),
    poll: num('poll', 30_000),
    onRates (list, full) {
      if (full) rates.clear()
      for (const r of list) rates.set(r.base, r)
      render()
    },
    onLive: showLive
  })
  return () => {
    stop()
    resize.disconnect()
    clearTimeout(offline)
  }
}
