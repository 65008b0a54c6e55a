import { mount } from './ticker.js'

// captured while the script runs: afterwards document.currentScript is null; the folder it was loaded from
// serves the language packs of its own build
const script = document.currentScript as HTMLScriptElement | null
const origin = new URL('.', script?.src || location.href).href

// a second copy of the script on the page finds the element defined and does nothing
if (!customElements.get('fx-ticker')) {
  customElements.define('fx-ticker', class extends HTMLElement {
    static observedAttributes = ['symbols', 'locale', 'direction', 'href', 'src', 'data-src', 'speed', 'display', 'spark']
    #stop: (() => void) | undefined

    connectedCallback (): void {
      this.#stop?.()
      this.#stop = mount(this, origin)
    }

    disconnectedCallback (): void {
      this.#stop?.()
      this.#stop = undefined
    }

    attributeChangedCallback (): void {
      if (this.#stop) this.connectedCallback()
    }
  })
  // for CMSs that strip unknown elements: <div data-fx-ticker data-symbols="...">
  const upgrade = (): void => {
    for (const el of document.querySelectorAll<HTMLElement>('[data-fx-ticker]')) {
      if (el.shadowRoot === null) mount(el, origin)
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', upgrade)
  else upgrade()
}
