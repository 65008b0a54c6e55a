import t from 'tap'
import Fastify from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { readFileSync, readdirSync } from 'node:fs'
import { brotliCompressSync, constants, gunzipSync, gzipSync } from 'node:zlib'
import widgetRoutes, { WIDGET_DIR } from '../../src/routes/widget.js'
import { build } from '../support/build.js'
import { buildWidget } from '../support/browser.js'

buildWidget()
const manifest = JSON.parse(readFileSync(new URL('manifest.json', WIDGET_DIR), 'utf8')) as { file: string, hash: string, bytes: number, gzip: number, brotli: number, budgetGzip: number }
// shared/DESIGN.md: the widget stays small enough to embed on any page, 6 KB gzip
const DESIGN_GZIP = 6144

t.test('/widget.js is the current bundle with a short cache, an ETag and CORS', async (t) => {
  const app = await build(t)
  const res = await app.inject('/widget.js')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/javascript/)
  t.equal(res.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=86400')
  t.equal(res.headers.etag, `"${manifest.hash}"`)
  t.equal(res.headers['access-control-allow-origin'], '*')
  t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin')
  t.equal(res.rawPayload.length, manifest.bytes)
  t.match(res.body, /customElements/)

  const again = await app.inject({ url: '/widget.js', headers: { 'if-none-match': res.headers.etag as string } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')

  const gz = await app.inject({ url: '/widget.js', headers: { 'accept-encoding': 'gzip, br' } })
  t.equal(gz.headers['content-encoding'], 'gzip')
  t.same(gunzipSync(gz.rawPayload), res.rawPayload)
})

t.test('CORS_ORIGINS limits access-control-allow-origin to the listed origins', async (t) => {
  const app = await build(t, { env: { CORS_ORIGINS: 'https://news.example.com' } })
  const allowed = await app.inject({ url: '/widget.js', headers: { origin: 'https://news.example.com' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://news.example.com')
  const other = await app.inject({ url: '/widget.js', headers: { origin: 'https://evil.example.org' } })
  t.notOk(other.headers['access-control-allow-origin'])
})

t.test('/widget.<hash>.js is immutable', async (t) => {
  const app = await build(t)
  const res = await app.inject(`/${manifest.file}`)
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.same(res.rawPayload, (await app.inject('/widget.js')).rawPayload)
  t.equal((await app.inject('/widget.000000000000.js')).statusCode, 404)
})

t.test('/charts.js is the demo page\'s chart script, not part of the widget; its hashed name is immutable', async (t) => {
  const app = await build(t)
  const charts = (manifest as unknown as { charts: { file: string, hash: string } }).charts
  const res = await app.inject('/charts.js')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/javascript/)
  t.equal(res.headers.etag, `"${charts.hash}"`)
  t.match(res.body, /data-fx-charts/)
  t.notMatch((await app.inject('/widget.js')).body, /data-fx-charts/, 'the widget does not carry it')
  const hashed = await app.inject(`/${charts.file}`)
  t.equal(hashed.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.same(hashed.rawPayload, res.rawPayload)
  const page = (await app.inject('/')).body
  t.match(page, '<script src="/charts.js" defer></script>', 'the demo page loads it from its own origin')
  t.match(page, 'data-fx-charts data-symbols="KGS,KZT,TJS,UZS,TMT"')
})

t.test('the widget is one script, with every transport, the tooltip and the sparklines, within the 6 KB gzip of the design', async (t) => {
  const app = await build(t)
  const served = (await app.inject('/widget.js')).rawPayload
  const gzip = gzipSync(served, { level: 9 }).length
  const brotli = brotliCompressSync(served, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
  t.comment(`widget.js: ${served.length} B raw, ${gzip} B gzip -9, ${brotli} B brotli q11 (budget ${DESIGN_GZIP} B gzip)`)
  t.equal(manifest.budgetGzip, DESIGN_GZIP)
  t.ok(gzip <= DESIGN_GZIP, `${gzip} B gzip <= ${DESIGN_GZIP} B`)
  t.equal(gzip, manifest.gzip, 'the manifest reports the same gzip size')
  t.equal(brotli, manifest.brotli, 'and the same brotli size')
  const script = served.toString('utf8')
  t.match(script, /new WebSocket\(/, 'the WebSocket')
  t.match(script, /EventSource/, 'the SSE fallback')
  t.match(script, /if-none-match/, 'the polling fallback')
  t.match(script, /mouseover/, 'the tooltip')
  t.match(script, /viewBox/, 'the sparklines')
  t.notMatch(script, /\bimport\(/, 'no module imported on demand')
  const scripts = readdirSync(WIDGET_DIR).filter((f) => f.startsWith('widget.') && f.endsWith('.js')).sort()
  t.same(scripts, [manifest.file, 'widget.js'].sort(), 'no other widget script is built')
})

t.test('/ is a demo page that embeds the widget with the two-line snippet', async (t) => {
  const app = await build(t)
  const res = await app.inject({ url: '/', headers: { host: 'fx.example.com' } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, '<script src="/widget.js" async></script>\n<fx-ticker symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker>')
  t.match(res.body, '&#60;script src=&#34;https://fx.example.com/widget.js&#34; async&#62;&#60;/script&#62;', 'the snippet to copy names a placeholder origin')
  t.match(res.body, 'href="/v1/rates"')
  t.match(res.body, 'href="/openapi.json"')
  t.notMatch((await app.inject('/openapi.json')).body, /widget\.[0-9a-f]{12}\.js/, 'the hashed bundle, which changes with every build, is not in the API document')
})

t.test('the demo page does not depend on the Host header, so a shared cache cannot be poisoned through it', async (t) => {
  const app = await build(t)
  const plain = await app.inject({ url: '/', headers: { host: 'fx.example.com' } })
  for (const host of ['evil.example.net', 'x"><script>alert(1)</script>', 'evil.example.net:8443', '127.0.0.1']) {
    for (const headers of [{ host }, { host: 'fx.example.com', 'x-forwarded-host': host, 'x-forwarded-proto': 'javascript' }]) {
      const res = await app.inject({ url: '/', headers })
      t.equal(res.statusCode, 200)
      t.notMatch(res.body, host, `${JSON.stringify(headers)} does not appear in the page`)
      t.equal(res.body, plain.body, 'the same bytes for every Host')
    }
  }
  const trusting = await build(t, { env: { FX_TRUST_PROXY: 'true' } })
  const forwarded = await trusting.inject({ url: '/', headers: { host: 'fx.example.com', 'x-forwarded-host': 'evil.example.net', 'x-forwarded-proto': 'https' } })
  t.notMatch(forwarded.body, 'evil.example.net', 'nor a forwarded host behind a trusted proxy')
  t.notMatch(plain.headers.vary ?? '', /host/i, 'nothing to vary on')
})

t.test('without a built widget the routes answer 503 and the rest still works', async (t) => {
  // the routes' schemas are zod, as in the app
  const app = Fastify().setValidatorCompiler(validatorCompiler).setSerializerCompiler(serializerCompiler)
  t.teardown(() => app.close())
  await app.register(widgetRoutes, { dir: new URL('file:///nonexistent/widget/') })
  const res = await app.inject('/widget.js')
  t.equal(res.statusCode, 503)
  t.match(res.json(), { message: /not built/ })
  t.equal((await app.inject('/')).statusCode, 200)
  t.equal((await app.inject('/charts.js')).statusCode, 503)
})

t.test('the language packs: hashed names never revalidated, stable names briefly cached, English not among them', async (t) => {
  const { PACKS } = await import('../../src/widget/packs.js')
  const i18n = (manifest as unknown as { i18n: { hash: string, files: Record<string, string> } }).i18n
  t.same(Object.keys(i18n.files).sort(), ['kk', 'ky', 'ru', 'tg', 'tk', 'uz'], 'the six other languages, each its own file')
  t.match(i18n.hash, /^[0-9a-f]{8}$/)
  const served = readFileSync(new URL('widget.js', WIDGET_DIR), 'utf8')
  t.match(served, i18n.hash, 'the bundle names the packs of its own build')
  t.notMatch(served, /Нацбанк|Qirgʻiziston|Тыныгуу/, 'no other language is in the bundle')
  const app = await build(t)
  const english = (await app.inject('/widget.js')).body.match(/"(Exchange rates\|[^"]+)"/)?.[1]?.split('|') ?? []
  t.equal(english.length, 15, 'the built-in English words and bank names')
  for (const [lang, file] of Object.entries(i18n.files)) {
    const res = await app.inject(`/${file}`)
    t.equal(res.statusCode, 200, file)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
    t.equal(res.headers['access-control-allow-origin'], '*', 'fetched by pages on other origins')
    const words = res.json() as string[]
    t.same(words, PACKS[lang]?.split('|'), `${lang}: the words of packs.ts`)
    t.equal(words.length, english.length, `${lang}: as many words as English, in the same order`)
    t.ok(words.every((w) => typeof w === 'string' && w !== '' && !/[<>&"]/.test(w)), `${lang}: plain words`)

    const alias = await app.inject(`/widget.i18n.${lang}.json`)
    t.equal(alias.headers['cache-control'], 'public, max-age=300, stale-while-revalidate=86400')
    t.same(alias.rawPayload, res.rawPayload)
    t.equal(alias.headers.etag, res.headers.etag)
    const again = await app.inject({ url: `/widget.i18n.${lang}.json`, headers: { 'if-none-match': `W/${res.headers.etag as string}` } })
    t.equal(again.statusCode, 304)
    t.equal(again.body, '')
    const gz = await app.inject({ url: `/${file}`, headers: { 'accept-encoding': 'gzip' } })
    t.same(gunzipSync(gz.rawPayload), res.rawPayload)
  }
  for (const url of ['/widget.i18n.en.json', '/widget.i18n.de.json', `/widget.i18n.de.${i18n.hash}.json`, '/widget.i18n.ru.00000000.json']) {
    t.equal((await app.inject(url)).statusCode, 404, `${url} does not exist`)
  }
  const openapi = (await app.inject('/openapi.json')).body
  t.notMatch(openapi, /i18n/, 'the packs belong to the widget, not to the API document')
})
