import t from 'tap'
import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { buildWidget, inShadow, launchBrowser, newPage, serve, tickerText, variedRates, waitForText, waitInShadow } from '../support/browser.js'
import type { Service } from '../support/browser.js'
import { publishInput } from '../support/snapshot.js'

buildWidget()
const browser = await launchBrowser(t)

interface Teardown { teardown: (fn: () => unknown) => void }

/** The one-line rule README's embed snippet gives a page, reserving the bar before the script runs. */
const RESERVE = 'fx-ticker,[data-fx-ticker]{display:block;min-height:2.5em}'

/**
 * A news site on its own loopback origin serving `html` (with `headers`). A real server, not a routed
 * page: Chromium's local network access checks refuse WebSockets from a page that has no address.
 */
async function site (t: Teardown, html: string, headers: Record<string, string> = {}): Promise<string> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(html) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

async function embed (t: Teardown, service: Service, body: string, { lang = 'en', page }: { lang?: string, page?: Page } = {}): Promise<Page> {
  const p = page ?? await newPage(t, browser)
  await p.goto(await site(t, `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"></head><body style="margin:0">
<script src="${service.origin}/widget.js" async></script>
${body}</body></html>`))
  return p
}

/** Stops the line at its start, so a pair can be pointed at. */
async function hold (page: Page, n = 0): Promise<void> {
  await page.locator('fx-ticker button').nth(n).click()
  await inShadow(page, 'root.querySelector(".t").getAnimations()[0].currentTime = 0', n)
}

/** The tooltip's state after a pointer or keyboard move: shown text, position against the item and the bar. */
async function tip (page: Page): Promise<{ hidden: boolean, text: string, below: boolean, inView: boolean }> {
  return await inShadow(page, `const tip = root.querySelector('.tip'); const r = tip.getBoundingClientRect()
    const bar = root.querySelector('.w').getBoundingClientRect()
    return { hidden: tip.hidden, text: tip.textContent, below: r.top >= bar.bottom - 1, inView: r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight }`)
}

t.test('value date and basis on hover and keyboard focus, and in the accessible text, without widening the line', async (t) => {
  const rates = variedRates().map((r) => r.base === 'UZS' ? { ...r, basis: 'consensus' as const } : r)
  const service = await serve(t, { rates })
  const page = await embed(t, service, '<fx-ticker symbols="KZT,UZS,TMT"></fx-ticker>')
  await waitForText(page, ['KZT/USD', 'UZS/USD', 'TMT/USD'])
  const size = (): Promise<number[]> => inShadow(page, `const i = root.querySelector('.c > span:first-child .i')
    return [i.getBoundingClientRect().width, root.querySelector('.w').getBoundingClientRect().height, root.host.getBoundingClientRect().height]`)
  const before = await size()

  await hold(page)
  await page.hover('fx-ticker .c > span:first-child .i:first-child')
  t.same(await tip(page), { hidden: false, text: 'Nov 26, 2025, National Bank of Kazakhstan', below: true, inView: true }, 'hover shows the date and the home bank')
  t.same(await size(), before, 'the item, the bar and the element keep their size')
  await page.mouse.move(5, 500)
  t.equal((await tip(page)).hidden, true, 'leaving hides it')

  await page.locator('fx-ticker button').focus()
  t.equal(await inShadow(page, 'return root.activeElement?.className'), 'p', 'the pause button comes first')
  await page.keyboard.press('Tab')
  t.match(await tip(page), { hidden: false, text: 'Nov 26, 2025, National Bank of Kazakhstan' }, 'keyboard focus shows it too')
  t.equal(await inShadow(page, 'return root.getElementById(root.activeElement.getAttribute("aria-describedby")).textContent'),
    'Nov 26, 2025, National Bank of Kazakhstan', 'and describes the focused pair to assistive technology')
  await page.keyboard.press('Tab')
  t.match(await tip(page), { text: 'Nov 26, 2025, consensus' }, 'a consensus rate says so')
  await page.keyboard.press('Tab')
  t.match(await tip(page), { text: 'Nov 26, 2025, peg' }, 'the peg says so')
  await page.keyboard.press('Escape')
  t.equal((await tip(page)).hidden, true, 'Escape dismisses it')
  t.match(await inShadow(page, 'return root.querySelector(".v").getAttribute("aria-label")'),
    /Kazakhstani Tenge, KZT\/USD 0\.001961 down −0\.12%, Nov 26, 2025, National Bank of Kazakhstan; Uzbekistani Som, UZS\/USD 0\.00008305, Nov 26, 2025, consensus; /)

  const hidden = await inShadow<string[]>(page, 'return [...root.querySelectorAll(".c [aria-hidden] .i")].map((i) => i.dataset.t)')
  t.ok(hidden.length > 0 && hidden.every((d) => /^Nov (26|20), 2025, /.test(d)), 'the repeats show the same details under the pointer')
})

t.test('the words follow locale, then the page lang', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const ru = await embed(t, service, '<fx-ticker locale="ru-RU" symbols="KZT,TJS,TMT"></fx-ticker>')
  await waitForText(ru, ['KZT/USD = 0,001961', 'привязка', 'устарел'])
  t.equal(await ru.locator('fx-ticker button').getAttribute('aria-label'), 'Пауза')
  // Intl puts no-break spaces in Russian dates and percentages
  t.equal((await inShadow<string>(ru, 'return root.querySelector(".v").getAttribute("aria-label")')).replace(/\s/g, ' '),
    'Курсы валют: казахский тенге, KZT/USD 0,001961 снижение −0,12 %, 26 нояб. 2025 г., Нацбанк Казахстана; ' +
    'таджикский сомони, TJS/USD 0,1089 без изменений 0,00 %, 20 нояб. 2025 г., Нацбанк Таджикистана, устарел; ' +
    'новый туркменский манат, TMT/USD 0,2857 без изменений 0,00 %, 26 нояб. 2025 г., привязка')
  await hold(ru)
  await ru.hover('fx-ticker .c > span:first-child .i:first-child')
  t.equal((await tip(ru)).text.replace(/\s/g, ' '), '26 нояб. 2025 г., Нацбанк Казахстана')

  const kk = await embed(t, service, '<fx-ticker symbols="KZT,TMT"></fx-ticker>', { lang: 'kk' })
  await waitForText(kk, ['KZT/USD', 'бекітілген бағам'])
  t.equal(await kk.locator('fx-ticker button').getAttribute('aria-label'), 'Кідірту')
  // Chromium has no Kazakh currency names or month names: codes and ISO dates, never English words
  t.match(await inShadow(kk, 'return root.querySelector(".v").getAttribute("aria-label")'),
    /^Валюта бағамдары: KZT, KZT\/USD \S+ төмендеді \S+, 2025-11-26, Қазақстан Ұлттық банкі; TMT, TMT\/USD \S+ өзгеріссіз \S+, 2025-11-26, бекітілген бағам$/)

  const de = await embed(t, service, '<fx-ticker symbols="KZT"></fx-ticker>', { lang: 'de' })
  await waitForText(de, ['KZT/USD = 0,001961'])
  t.equal(await de.locator('fx-ticker button').getAttribute('aria-label'), 'Pause', 'a language without words falls back to English, numbers stay German')
})

t.test('tickers on one page share one WebSocket and one subscription set', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const upgrades: string[] = []
  service.app.websocketServer.on('connection', (_s: unknown, req: IncomingMessage) => upgrades.push(req.url ?? ''))
  const page = await newPage(t, browser)
  let sockets = 0
  page.on('websocket', () => { sockets++ })
  await embed(t, service, '<fx-ticker symbols="KZT"></fx-ticker><fx-ticker symbols="UZS,TJS"></fx-ticker><fx-ticker symbols="KZT" direction="USD/BASE"></fx-ticker>', { page })
  await waitForText(page, ['KZT/USD = 0.001961'], 0)
  await waitForText(page, ['TJS/USD', 'UZS/USD'], 1)
  await waitForText(page, ['USD/KZT = 509.87'], 2)
  t.equal(sockets, 1, 'three tickers, one WebSocket')
  t.same(upgrades, ['/v1/ws?symbols=KZT%2CUZS%2CTJS'], 'asking for the union of their symbols')
  t.notMatch(await inShadow(page, 'return root.textContent', 1), /KZT/, 'each shows only its own symbols')

  await service.app.store.publish(publishInput(variedRates().map((r) => r.base === 'KZT' ? { ...r, price: 1 / 512.5, inverse: 512.5 } : r)))
  await waitForText(page, ['KZT/USD = 0.001951'], 0)
  await waitForText(page, ['USD/KZT = 512.5'], 2)

  await page.evaluate('document.body.insertAdjacentHTML("beforeend", "<fx-ticker symbols=TMT></fx-ticker>")')
  await waitForText(page, ['TMT/USD = 0.2857'], 3)
  t.equal(sockets, 1, 'a ticker added later widens the subscription on the same socket')
  t.equal(upgrades.length, 1)
})

t.test('compact layout: by attribute, and by default under 480 px', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser, { viewport: { width: 375, height: 700 } })
  await embed(t, service, '<fx-ticker></fx-ticker><fx-ticker display="full"></fx-ticker>', { page })
  await waitForText(page, ['KGS/USD'], 0)
  await waitForText(page, ['KGS/USD'], 1)
  const layout = (n: number): Promise<{ compact: boolean, item: number, view: number, bar: number, dot: string }> => inShadow(page, `
    const i = root.querySelector('.c > span:first-child .i')
    return { compact: root.querySelector('.w').classList.contains('k'), item: i.getBoundingClientRect().width, view: root.querySelector('.v').clientWidth,
      bar: root.querySelector('.w').getBoundingClientRect().height, dot: getComputedStyle(i, '::before').display }`, n)
  const compact = await layout(0)
  const full = await layout(1)
  t.equal(compact.compact, true, 'compact by default at 375 px')
  t.equal(full.compact, false, 'display="full" keeps the full layout')
  t.equal(compact.dot, 'none', 'no dots')
  t.ok(2 * compact.item <= compact.view, `two pairs fit in view (${compact.item.toFixed(0)} px each in ${compact.view} px)`)
  t.ok(compact.item < 0.8 * full.item, 'smaller than the full layout')
  t.equal(compact.bar, full.bar, 'the bar keeps its height, so the reserved space fits both')

  const wide = await newPage(t, browser, { viewport: { width: 1000, height: 600 } })
  await embed(t, service, '<fx-ticker display="compact"></fx-ticker><fx-ticker></fx-ticker>', { page: wide })
  await waitForText(wide, ['KGS/USD'], 1)
  t.same(await Promise.all([0, 1].map((n) => inShadow(wide, 'return root.querySelector(".w").classList.contains("k")', n))), [true, false],
    'display="compact" on a wide page; the full layout by default')
})

/** Loads a page whose widget script is held back until the page has painted, and sums its layout shifts. */
async function layoutShift (t: Teardown, service: Service, style: string): Promise<number> {
  const page = await newPage(t, browser)
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  await page.route(`${service.origin}/widget.js`, async (route) => {
    await held
    await route.continue()
  })
  await page.goto(await site(t, `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>body{margin:0;font:16px/1.5 sans-serif}${style}</style></head>
<body><h1>Markets</h1><script src="${service.origin}/widget.js" async></script><fx-ticker></fx-ticker><p>${'Lorem ipsum dolor sit amet. '.repeat(40)}</p></body></html>`),
  { waitUntil: 'domcontentloaded' })
  const frames = 'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))'
  await page.evaluate(frames)
  release()
  await waitForText(page, ['KGS/USD'])
  await page.evaluate(frames)
  return await page.evaluate(`new Promise((resolve) => {
    let sum = 0
    new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value }).observe({ type: 'layout-shift', buffered: true })
    requestAnimationFrame(() => resolve(sum))
  })`) as number
}

t.test('with the one-line rule the page does not shift when the widget arrives', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const without = await layoutShift(t, service, '')
  t.ok(without > 0, `without the rule the content below moves (CLS ${without.toFixed(4)}): the measurement sees shifts`)
  t.equal(await layoutShift(t, service, RESERVE), 0, 'with it, CLS is 0')
})

t.test('a page with the README\'s Content-Security-Policy runs the widget without violations', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser)
  const violations: string[] = []
  page.on('console', (msg) => { if (/Content.Security.Policy/i.test(msg.text())) violations.push(msg.text()) })
  let sockets = 0
  page.on('websocket', () => { sockets++ })
  const csp = `default-src 'none'; script-src ${service.origin}; connect-src ${service.origin} ws://127.0.0.1:${service.port}`
  await page.goto(await site(t, `<!doctype html><html lang="en"><body><script src="${service.origin}/widget.js" async></script><fx-ticker></fx-ticker></body></html>`,
    { 'content-security-policy': csp }))
  await waitForText(page, ['KGS/USD', 'TMT/USD'])
  await hold(page)
  await page.hover('fx-ticker .c > span:first-child .i')
  await waitInShadow(page, 'return !root.querySelector(".tip").hidden')
  t.equal(await inShadow(page, 'return getComputedStyle(root.querySelector(".w")).display'), 'flex', 'styled')
  t.same(violations, [])
  t.equal(sockets, 1, 'over the WebSocket')
})

t.test('other languages come as one small pack per page from the script\'s origin; English until it arrives, without a shift', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  const page = await newPage(t, browser)
  const packs: string[] = []
  page.on('request', (req) => { if (req.url().includes('i18n')) packs.push(req.url()) })
  let release = (): void => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  await page.route(`${service.origin}/widget.i18n.*`, async (route) => {
    await held
    await route.continue()
  })
  // the README's entries, and the page's own inline reserve rule
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src ${service.origin}; connect-src ${service.origin} ws://127.0.0.1:${service.port}`
  const violations: string[] = []
  page.on('console', (msg) => { if (/Content.Security.Policy/i.test(msg.text())) violations.push(msg.text()) })
  await page.goto(await site(t, `<!doctype html><html lang="ru"><head><meta charset="utf-8"><style>body{margin:0}${RESERVE}</style></head><body>
<script src="${service.origin}/widget.js" async></script><fx-ticker symbols="KZT,TMT"></fx-ticker><fx-ticker symbols="TJS"></fx-ticker><p>текст</p></body></html>`,
  { 'content-security-policy': csp }))
  await waitForText(page, ['KZT/USD = 0,001961', 'peg'])
  await waitForText(page, ['TJS/USD', 'stale'], 1)
  t.equal(await page.locator('fx-ticker button').first().getAttribute('aria-label'), 'Pause', 'English while the pack is on its way')
  const box = (): Promise<number[]> => page.evaluate('[...document.querySelectorAll(\'fx-ticker, p\')].map((e) => e.getBoundingClientRect().top)') as Promise<number[]>
  const before = await box()
  await page.evaluate('window.shifts = 0; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.shifts += e.value }).observe({ type: \'layout-shift\' })')

  release()
  await waitForText(page, ['KZT/USD = 0,001961', 'привязка'])
  await waitForText(page, ['TJS/USD', 'устарел'], 1)
  t.equal(await page.locator('fx-ticker button').first().getAttribute('aria-label'), 'Пауза')
  t.match(await inShadow(page, 'return root.querySelector(".v").getAttribute("aria-label")'), /^Курсы валют: .*Нацбанк Казахстана/)
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))')
  t.same(await box(), before, 'the tickers and the text below stay where they were')
  t.equal(await page.evaluate('window.shifts'), 0, 'no layout shift when the words change')
  t.equal(packs.length, 1, 'two tickers, one request')
  t.match(packs[0], new RegExp(`^${service.origin}/widget\\.i18n\\.ru\\.[0-9a-f]{8}\\.json$`), 'the hashed pack from the script\'s origin')
  t.same(violations, [], 'the README\'s connect-src already covers it')

  const english = await newPage(t, browser)
  const requests: string[] = []
  english.on('request', (req) => { requests.push(req.url()) })
  await embed(t, service, '<fx-ticker symbols="KZT" locale="de-DE"></fx-ticker><fx-ticker symbols="UZS"></fx-ticker>', { page: english })
  await waitForText(english, ['KZT/USD = 0,001961'])
  await waitForText(english, ['UZS/USD'], 1)
  t.same(requests.filter((u) => u.includes('i18n')), [], 'English and languages without words fetch no pack')
})

t.test('a missing or broken pack leaves the widget in English', async (t) => {
  const service = await serve(t, { rates: variedRates() })
  for (const [status, body] of [[404, 'not found'], [200, '["too", "few"]'], [200, '{"words": []}']] as const) {
    const page = await newPage(t, browser)
    await page.route(`${service.origin}/widget.i18n.*`, (route) => route.fulfill({ status, body, contentType: 'application/json' }))
    const answered = page.waitForEvent('requestfinished', (req) => req.url().includes('i18n'))
    await embed(t, service, '<fx-ticker symbols="TMT"></fx-ticker>', { page, lang: 'kk' })
    await waitForText(page, ['TMT/USD', 'peg'])
    await answered
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))')
    t.equal(await page.locator('fx-ticker button').getAttribute('aria-label'), 'Pause', `${status} ${body}: English`)
    t.match(await tickerText(page), /peg/)
  }
})
