import t from 'tap'
import type { Page } from 'playwright-core'
import { buildWidget, fakePage, inShadow, launchBrowser, newPage, serve, tickerText, variedRates, waitForText, waitInShadow } from '../support/browser.js'
import type { Service } from '../support/browser.js'
import { publishInput } from '../support/snapshot.js'

buildWidget()
const browser = await launchBrowser(t)

interface Teardown { teardown: (fn: () => unknown) => void }

/** Opens a page on the service's origin holding `body` after the embed script. */
async function embed (t: Teardown, service: Service, body: string, page?: Page): Promise<Page> {
  const p = page ?? await newPage(t, browser)
  await fakePage(p, service.origin + '/embed.html', `<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>
<script src="${service.origin}/widget.js" async></script>
${body}</body></html>`)
  await p.goto(service.origin + '/embed.html')
  return p
}

const ALL = ['KGS/USD', 'KZT/USD', 'TJS/USD', 'UZS/USD', 'TMT/USD']

t.test('the line loops seamlessly and pauses on hover, on focus and with the button', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await embed(t, service, '<fx-ticker href="https://example.com/fx/{base}"></fx-ticker>')
  await waitForText(page, ALL)
  const geometry = await inShadow<{ track: number, copy: number, view: number, name: string, duration: number, speed: number, playing: string }>(page, `
    const t = root.querySelector('.t'); const [a, b] = root.querySelectorAll('.c'); const s = getComputedStyle(t)
    return { track: t.scrollWidth, copy: a.getBoundingClientRect().width, copy2: b.getBoundingClientRect().width, view: root.querySelector('.v').clientWidth,
      name: s.animationName, duration: parseFloat(s.animationDuration), playing: t.getAnimations()[0]?.playState }`)
  t.equal(geometry.name, 'fx-m')
  t.equal(geometry.playing, 'running')
  t.ok(Math.abs(geometry.track - 2 * geometry.copy) <= 1, 'two equal copies: translateX(-50%) lands exactly on the start of the second')
  t.ok(geometry.copy >= geometry.view, 'each copy is at least as wide as the viewport, so no gap shows at the wrap')
  t.ok(Math.abs(geometry.duration - geometry.copy / 50) < 0.1, 'the duration follows the width at the default 50 px/s')

  const a11y = await inShadow<{ hidden: string | null, repeats: boolean, tabbable: number, live: string | null, label: string | null, links: number }>(page, `
    const [a, b] = root.querySelectorAll('.c')
    return { hidden: b.getAttribute('aria-hidden'), repeats: [...a.children].slice(1).every((x) => x.getAttribute('aria-hidden') === 'true'),
      tabbable: [...b.querySelectorAll('.i'), ...[...a.children].slice(1).flatMap((x) => [...x.querySelectorAll('.i')])].filter((x) => x.tabIndex >= 0).length,
      live: root.querySelector('.v').getAttribute('aria-live'), label: root.querySelector('.v').getAttribute('aria-label'), links: a.querySelectorAll(':scope > span:first-child a').length }`)
  t.equal(a11y.hidden, 'true', 'the loop copy is hidden from assistive technology')
  t.ok(a11y.repeats, 'so are the repeats that fill the width')
  t.equal(a11y.tabbable, 0, 'their pairs are out of the tab order')
  t.equal(a11y.live, 'off')
  t.equal(a11y.label, 'Exchange rates: Kyrgyz Som, KGS/USD 0.01144 up +0.05%, Nov 26, 2025, National Bank of Kyrgyzstan; ' +
    'Kazakhstani Tenge, KZT/USD 0.001961 down −0.12%, Nov 26, 2025, National Bank of Kazakhstan; ' +
    'Tajikistani Somoni, TJS/USD 0.1089 unchanged 0.00%, Nov 20, 2025, National Bank of Tajikistan, stale; ' +
    'Uzbekistani Som, UZS/USD 0.00008305, Nov 26, 2025, Central Bank of Uzbekistan; ' +
    'Turkmenistani Manat, TMT/USD 0.2857 unchanged 0.00%, Nov 26, 2025, peg')
  t.equal(a11y.links, 5, 'the visible copy links each pair')

  const state = (): Promise<string> => inShadow<string>(page, 'return getComputedStyle(root.querySelector(".t")).animationPlayState')
  await page.hover('fx-ticker .v')
  t.equal(await state(), 'paused', 'hover pauses')
  await page.mouse.move(5, 500)
  t.equal(await state(), 'running', 'leaving resumes')

  await page.focus('fx-ticker .c > span:first-child a')
  t.equal(await state(), 'paused', 'focus inside the line pauses')
  await inShadow(page, 'root.activeElement?.blur()')
  t.equal(await state(), 'running')

  const button = page.locator('fx-ticker button')
  t.equal(await button.getAttribute('aria-pressed'), 'false')
  t.match(await button.getAttribute('aria-label'), /Pause/)
  await button.click()
  await page.mouse.move(5, 500)
  t.equal(await button.getAttribute('aria-pressed'), 'true')
  t.equal(await state(), 'paused', 'the button pauses')
  t.equal(await inShadow<string>(page, 'return root.querySelector(".t").getAnimations()[0].playState'), 'paused')
  await button.press('Enter')
  t.equal(await button.getAttribute('aria-pressed'), 'false', 'and works from the keyboard')
  t.equal(await state(), 'running')
})

t.test('under prefers-reduced-motion the line stands still', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser, { reducedMotion: 'reduce' })
  await embed(t, service, '<fx-ticker></fx-ticker>', page)
  await waitForText(page, ALL)
  const still = await inShadow<{ animations: number, name: string, transform: string, copy: string, button: string, overflow: string }>(page, `
    const t = root.querySelector('.t'); const s = getComputedStyle(t)
    return { animations: t.getAnimations().length, name: s.animationName, transform: s.transform,
      copy: getComputedStyle(root.querySelectorAll('.c')[1]).display, button: getComputedStyle(root.querySelector('button')).display,
      overflow: getComputedStyle(root.querySelector('.v')).overflowX }`)
  t.same(still, { animations: 0, name: 'none', transform: 'none', copy: 'none', button: 'none', overflow: 'auto' })
  await page.emulateMedia({ reducedMotion: 'no-preference' })
  t.equal(await inShadow<number>(page, 'return root.querySelector(".t").getAnimations().length'), 1, 'and moves again when the preference changes')
})

t.test('formatting in two locales and both directions', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await embed(t, service, `<fx-ticker locale="en-US"></fx-ticker>
<fx-ticker locale="de-DE"></fx-ticker>
<fx-ticker locale="en-US" direction="USD/BASE"></fx-ticker>
<fx-ticker locale="de-DE" direction="USD/BASE"></fx-ticker>`)
  const expected = [
    ['KGS/USD = 0.01144 ▲ +0.05%', 'KZT/USD = 0.001961 ▼ −0.12%', 'TJS/USD = 0.1089 ▬ 0.00% stale', 'UZS/USD = 0.00008305', 'TMT/USD = 0.2857 ▬ 0.00% peg'],
    ['KGS/USD = 0,01144 ▲ +0,05\u00a0%', 'KZT/USD = 0,001961 ▼ −0,12\u00a0%', 'TJS/USD = 0,1089 ▬ 0,00\u00a0% stale', 'UZS/USD = 0,00008305', 'TMT/USD = 0,2857 ▬ 0,00\u00a0% peg'],
    ['USD/KGS = 87.45 ▼ −0.05%', 'USD/KZT = 509.87 ▲ +0.12%', 'USD/TJS = 9.185 ▬ 0.00% stale', 'USD/UZS = 12,041.18', 'USD/TMT = 3.5 ▬ 0.00% peg'],
    ['USD/KGS = 87,45 ▼ −0,05\u00a0%', 'USD/KZT = 509,87 ▲ +0,12\u00a0%', 'USD/TJS = 9,185 ▬ 0,00\u00a0% stale', 'USD/UZS = 12.041,18', 'USD/TMT = 3,5 ▬ 0,00\u00a0% peg']
  ]
  for (const [i, items] of expected.entries()) {
    await waitForText(page, items.slice(0, 1), i)
    const shown = await inShadow<string[]>(page, 'return [...root.querySelectorAll(".c:first-child > span:first-child .i")].map((e) => e.textContent)', i)
    t.same(shown, items, `ticker ${i}`)
    t.notMatch(shown.join(' '), /-/, 'no ASCII hyphen-minus: signs are U+2212')
    t.notMatch(shown.join(' '), /[−-]0[.,]00/, 'never a negative zero change')
  }
  const colours = await inShadow<string[]>(page, 'return [".u", ".d", ".n"].map((s) => getComputedStyle(root.querySelector(s)).color)')
  t.equal(new Set(colours).size, 3, 'up, down and unchanged differ in colour as well as in sign and arrow')
})

t.test('the page locale is used when no locale is given', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser, { locale: 'en-US' })
  await fakePage(page, service.origin + '/de.html', `<!doctype html><html lang="de-DE"><body>
<script src="${service.origin}/widget.js" async></script><fx-ticker symbols="UZS"></fx-ticker></body></html>`)
  await page.goto(service.origin + '/de.html')
  await waitForText(page, ['UZS/USD = 0,00008305'])
  t.pass('document.documentElement.lang wins over the browser language')
})

t.test('height is reserved before data, themes come from custom properties', async (t) => {
  const service = await serve(t, { rates: null })
  const page = await embed(t, service, `<style>#custom{--fx-bg:rgb(1, 2, 3);--fx-fg:rgb(250, 250, 250)}</style>
<fx-ticker retry="50" poll="100" grace="60000"></fx-ticker><p id="below">below</p>
<fx-ticker theme="dark"></fx-ticker><fx-ticker id="custom"></fx-ticker><fx-ticker theme="auto"></fx-ticker><fx-ticker theme="light"></fx-ticker>`)
  await waitInShadow(page, 'return root.querySelector(".w") !== null', 0, 5000)
  const below = 'document.getElementById("below").getBoundingClientRect().top'
  const before = await page.evaluate(below)
  await service.app.store.publish(publishInput(variedRates()))
  await waitForText(page, ALL)
  const after = await page.evaluate(below)
  t.equal(after, before, 'the content below does not move when the data arrives')
  const bg = (n: number): Promise<string> => inShadow<string>(page, 'return getComputedStyle(root.querySelector(".w")).backgroundColor', n)
  t.equal(await bg(0), 'rgb(255, 255, 255)', 'light by default in a light scheme')
  t.equal(await bg(1), 'rgb(20, 23, 26)', 'dark')
  t.equal(await bg(2), 'rgb(1, 2, 3)', 'the host page overrides --fx-bg')
  t.equal(await inShadow<string>(page, 'return getComputedStyle(root.querySelector(".w")).color', 2), 'rgb(250, 250, 250)')
  t.equal(await bg(3), 'rgb(255, 255, 255)', 'auto in a light scheme')
  await page.emulateMedia({ colorScheme: 'dark' })
  t.equal(await bg(3), 'rgb(20, 23, 26)', 'auto follows prefers-color-scheme')
  t.equal(await bg(0), 'rgb(20, 23, 26)', 'and auto is the default')
  t.equal(await bg(4), 'rgb(255, 255, 255)', 'an explicit light theme stays light')
  t.equal(await bg(2), 'rgb(1, 2, 3)', 'the host page still wins')
})

t.test('div[data-fx-ticker] is upgraded in a quirks-mode page and a second copy of the script is harmless', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser)
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  // no doctype, as on many old CMS pages: class names match case-insensitively there
  await fakePage(page, service.origin + '/cms.html', `<html><body>
<script src="${service.origin}/widget.js" async></script>
<div data-fx-ticker data-symbols="KZT,UZS" data-direction="USD/BASE"></div>
<script src="${service.origin}/widget.js" async></script></body></html>`)
  await page.goto(service.origin + '/cms.html')
  t.equal(await page.evaluate('document.compatMode'), 'BackCompat')
  await waitForText(page, ['USD/KZT = 509.87', 'USD/UZS = 12,041.18'])
  t.notMatch(await tickerText(page), /KGS/)
  await page.locator('[data-fx-ticker] button').click()
  t.same(await inShadow(page, 'const w = root.querySelector(".w"); return [getComputedStyle(w).display, root.querySelector("button").getAttribute("aria-pressed")]'), ['flex', 'true'], 'pausing keeps the layout')
  t.equal(await page.evaluate('document.querySelectorAll("script").length'), 2)
  t.same(errors, [], 'no error from the second copy')
  const globals = await page.evaluate('Object.keys(window).filter((k) => /fx|ticker|widget/i.test(k))')
  t.same(globals, [], 'no globals beyond the element')
})
