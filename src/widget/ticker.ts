import type { Rate } from '../domain/rate.js'
import { join } from './feed.js'
import { formatItem } from './format.js'
import type { Look } from './format.js'
import { CSS } from './style.js'
import { tooltip } from './tooltip.js'
import { W, languageOf, wordsOf } from './words.js'

// under this width (px) the default layout is compact: smaller type, no dots, more pairs in view
const COMPACT_BELOW = 480

// the words are set by render(), which runs again when a language's pack arrives; the button needs no
// type="button": in a shadow root it belongs to no form
const HTML = '<div class="w" part="ticker"><button class="p" aria-pressed="false"></button>' +
  '<div class="v" role="marquee" aria-live="off"><div class="t"><div class="c"></div><div class="c" aria-hidden="true"></div></div></div>' +
  '<span class="s" role="status"></span><div class="tip" id="tip" role="tooltip" hidden></div></div>'

type Bar = [w: HTMLElement, button: HTMLElement, v: HTMLElement, track: HTMLElement, main: HTMLElement, copy: HTMLElement, status: HTMLElement, tip: HTMLElement]

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

/**
 * Dates and currency names in the words' language, from the browser's Intl data where it has that
 * language; where it does not (Chromium ships none for kk, ky, uz, tg, tk), ISO dates and currency codes
 * rather than English in the middle of another language.
 */
function texts (language: string): Pick<Look, 'dateOf' | 'nameOf'> {
  try {
    const names = new Intl.DisplayNames(language, { type: 'currency' })
    if (language === 'en' || names.of('USD') !== 'US Dollar') {
      const dates = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' })
      return { dateOf: (d) => dates.format(Date.parse(d)), nameOf: (c) => names.of(c) ?? c }
    }
  } catch { /* no Intl.DisplayNames */ }
  return { dateOf: (d) => d, nameOf: (c) => c }
}

/**
 * Renders a ticker into `host`'s shadow root and keeps it current from the service at `origin`
 * (the folder the script was loaded from) unless `src` overrides it. Returns the function that stops it.
 * Attributes are read plain (`<fx-ticker symbols>`) or with `data-` (`<div data-fx-ticker data-symbols>`).
 */
export function mount (host: HTMLElement, origin: string): () => void {
  const get = (name: string): string | null => host.getAttribute(name) ?? host.getAttribute('data-' + name)
  const num = (name: string, fallback: number): number => Number(get(name)) || fallback
  const tags = [get('locale'), document.documentElement.lang, navigator.language]
  let locale: string | undefined
  try {
    locale = Intl.NumberFormat.supportedLocalesOf(tags.filter((l): l is string => !!l))[0]
  } catch { /* an invalid tag: the browser's own locale */ }
  const language = languageOf(tags.find(Boolean) ?? '')
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' })
  root.innerHTML = style(root) + HTML
  // the bar and everything in it, in the order of HTML
  const [w, button, v, track, main, copy, status, tip] = root.querySelectorAll('.w,.w *') as unknown as Bar

  const symbols = (get('symbols') ?? '').toUpperCase().split(/[\s,]+/).filter(Boolean)
  const look: Look = {
    locale,
    words: wordsOf(language, origin, (w) => {
      look.words = w
      render()
    }),
    flip: /^USD\//i.test(get('direction') ?? ''),
    link: get('href'),
    ...texts(language)
  }
  const speed = num('speed', 50)
  const grace = num('grace', 10_000)
  let shown: Rate[] = []
  let seconds = 0
  let offline: ReturnType<typeof setTimeout> | undefined

  button.onclick = () => {
    button.setAttribute('aria-pressed', String(w.classList.toggle('h')))
  }
  tooltip(v, tip)

  function render (): void {
    const { words } = look
    const display = get('display')
    w.classList.toggle('k', display === 'compact' || (display !== 'full' && host.clientWidth < COMPACT_BELOW))
    button.setAttribute('aria-label', words[W.pause] as string)
    button.title = words[W.pause] as string
    if (status.textContent !== '') status.textContent = words[W.offline] as string
    const items = shown.map((r) => formatItem(r, look))
    const line = items.map((i) => i.html).join('')
    v.setAttribute('aria-label', items.length === 0 ? words[W.rates] as string : `${words[W.rates]}: ${items.map((i) => i.text).join('; ')}`)
    if (items.length === 0) return
    main.innerHTML = `<span>${line}</span>`
    // enough repeats per copy to fill the width, so the loop has no gap at the wrap
    const one = (main.firstChild as HTMLElement).getBoundingClientRect().width
    const n = one > 0 ? Math.max(1, Math.ceil(v.clientWidth / one)) : 1
    // the repeats show the same tooltips under the pointer, but are out of the tab order and the accessibility tree
    const hidden = `<span aria-hidden="true">${line.replace(/tabindex="0"/g, 'tabindex="-1"')}</span>`
    main.innerHTML += hidden.repeat(n - 1)
    copy.innerHTML = hidden.repeat(n)
    const s = (n * one) / speed
    // a new duration moves the line to a new phase, so only follow real width changes
    if (s > 0 && Math.abs(s - seconds) > seconds * 0.02) {
      seconds = s
      track.style.animationDuration = `${s.toFixed(2)}s`
    }
  }
  render()

  const showLive = (live: boolean): void => {
    if (live) {
      clearTimeout(offline)
      offline = undefined
      w.classList.remove('o')
      status.textContent = ''
    } else if (offline === undefined) {
      offline = setTimeout(() => {
        w.classList.add('o')
        status.textContent = look.words[W.offline] as string
      }, grace)
    }
  }

  const resize = new ResizeObserver(render)
  resize.observe(v)
  const spark = get('spark') !== null
  const leave = join(new URL(get('src') ?? origin, location.href).href.replace(/\/?$/, '/'), symbols, spark, num('retry', 1000), num('poll', 30_000), (all, live, points) => {
    showLive(live)
    const next = all.filter((r) => symbols.length === 0 || symbols.includes(r.base))
      .sort((a, b) => symbols.indexOf(a.base) - symbols.indexOf(b.base))
    // a heartbeat, or an update of another ticker's symbols, leaves this one as it is (and a focused pair focused)
    const lines = spark ? points : undefined
    if (next.length === shown.length && next.every((r, i) => r === shown[i]) && lines === look.spark) return
    shown = next
    look.spark = lines
    render()
  })
  return () => {
    leave()
    resize.disconnect()
    clearTimeout(offline)
  }
}
