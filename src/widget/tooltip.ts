/**
 * Shows an item's `data-t` (value date and basis) in `tip` while the pointer is over it or it has the
 * keyboard focus; Escape hides it (WCAG 1.4.13). `tip` is fixed-positioned outside the moving line, so
 * neither the line's overflow nor its transform clips or moves it.
 */
export function tooltip (line: HTMLElement, tip: HTMLElement): void {
  const hide = (): void => { tip.hidden = true }
  const show = (e: Event): void => {
    const item = (e.target as Element).closest<HTMLElement>('.i')
    if (item === null) return
    tip.textContent = item.dataset.t ?? ''
    tip.hidden = false
    // under the bar, or over it where the window ends, next to the pair
    const bar = (tip.parentNode as Element).getBoundingClientRect()
    const h = tip.offsetHeight + 2
    tip.style.left = `${Math.max(0, Math.min(item.getBoundingClientRect().left, innerWidth - tip.offsetWidth))}px`
    tip.style.top = `${bar.bottom + h > innerHeight ? bar.top - h : bar.bottom + 2}px`
  }
  for (const type of ['mouseover', 'focusin']) line.addEventListener(type, show)
  for (const type of ['mouseout', 'focusout']) line.addEventListener(type, hide)
  line.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide() })
}
