// A part of its own (src/widget/parts.ts): imported once the rates are on screen, before anyone hovers.

// set as the element's style (CSSOM, which a page's style-src does not govern), not in the shadow root's sheet
const STYLE = 'position:fixed;z-index:9999;padding:0 .5em;border-radius:.3em;background:var(--fx-fg,var(--f));color:var(--fx-bg,var(--b));font-size:.8em'

/**
 * Shows an item's `data-t` (value date and basis) in a tooltip while the pointer is over it or it has
 * the keyboard focus; Escape hides it (WCAG 1.4.13). The tooltip is fixed-positioned outside the moving
 * `line`, so neither the line's overflow nor its transform clips or moves it; its id is the one every
 * item names in `aria-describedby`.
 */
export function tooltip (line: HTMLElement): void {
  const bar = line.parentNode as HTMLElement
  const tip = document.createElement('div')
  tip.className = 'tip'
  tip.id = 'tip'
  tip.setAttribute('role', 'tooltip')
  tip.hidden = true
  tip.style.cssText = STYLE
  bar.append(tip)
  const hide = (): void => { tip.hidden = true }
  const show = (e: Event): void => {
    const item = (e.target as Element).closest<HTMLElement>('.i')
    if (item === null) return
    tip.textContent = item.dataset.t ?? ''
    tip.hidden = false
    // under the bar, or over it where the window ends, next to the pair
    const box = bar.getBoundingClientRect()
    const h = tip.offsetHeight + 2
    tip.style.left = `${Math.max(0, Math.min(item.getBoundingClientRect().left, innerWidth - tip.offsetWidth))}px`
    tip.style.top = `${box.bottom + h > innerHeight ? box.top - h : box.bottom + 2}px`
  }
  for (const type of ['mouseover', 'focusin']) line.addEventListener(type, show)
  for (const type of ['mouseout', 'focusout']) line.addEventListener(type, hide)
  line.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide() })
}
