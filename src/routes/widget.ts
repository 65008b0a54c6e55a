import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { readFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { RETRY_AFTER, bodiless, documented, refusal } from '../domain/responses.js'
import { etagMatches } from './conditional.js'

/** dist/widget/ both from src/routes/ (tsx, tests) and from dist/routes/ (production). */
export const WIDGET_DIR = new URL('../../dist/widget/', import.meta.url)

export interface WidgetRoutesOptions {
  /** Where scripts/build-widget.js wrote widget.js and manifest.json. */
  dir?: URL
}

interface Manifest { file: string, hash: string, i18n?: { hash: string, files: Record<string, string> } }
interface Bundle { file: string, etag: string, raw: Buffer, gzip: Buffer, type: string }

// the alias may change with a deploy, so caches keep it briefly; the hashed file never changes
const ALIAS_CACHE = 'public, max-age=300, stale-while-revalidate=86400'
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable'

async function loadBundle (dir: URL): Promise<Bundle | undefined> {
  try {
    const manifest = JSON.parse(await readFile(new URL('manifest.json', dir), 'utf8')) as Manifest
    return await asset(dir, manifest.file, manifest.hash, 'text/javascript; charset=utf-8')
  } catch {
    return undefined
  }
}

async function asset (dir: URL, file: string, hash: string, type: string): Promise<Bundle> {
  const raw = await readFile(new URL(file, dir))
  return { file, etag: `"${hash}"`, raw, gzip: gzipSync(raw, { level: 9 }), type }
}

/** The language packs the bundle fetches (`widget.i18n.<lang>.<hash>.json`), by language. */
async function loadPacks (dir: URL): Promise<Map<string, Bundle>> {
  try {
    const manifest = JSON.parse(await readFile(new URL('manifest.json', dir), 'utf8')) as Manifest
    const { hash = '', files = {} } = manifest.i18n ?? {}
    const packs = Object.entries(files).map(async ([lang, file]) => [lang, await asset(dir, file, hash, 'application/json; charset=utf-8')] as const)
    return new Map(await Promise.all(packs))
  } catch {
    return new Map()
  }
}

/** GET /widget.js, GET /widget.<hash>.js and GET /, the demo page that embeds the widget as any other site would. */
const widgetRoutes: FastifyPluginAsync<WidgetRoutesOptions> = async (fastify, { dir = WIDGET_DIR }) => {
  const bundle = await loadBundle(dir)
  if (bundle === undefined) fastify.log.warn({ dir: dir.pathname }, 'widget not built; run npm run build')

  const send = (request: FastifyRequest, reply: FastifyReply, cache: string, asset = bundle): FastifyReply => {
    const bundle = asset // the script unless a pack is named
    if (bundle === undefined) throw new RatesError('RATES_NOT_READY', 'the widget is not built: run npm run build', 503)
    reply.header('content-type', bundle.type).header('cache-control', cache)
      .header('etag', bundle.etag).header('vary', 'Accept-Encoding')
    if (etagMatches(request.headers['if-none-match'], bundle.etag)) return reply.code(304).send()
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(bundle.gzip)
    return reply.send(bundle.raw)
  }

  fastify.get('/widget.js', {
    schema: {
      operationId: 'getWidgetScript',
      tags: ['widget'],
      summary: 'The ticker widget, one script; its ETag names the immutable /widget.<hash>.js',
      response: {
        200: documented('The custom element <fx-ticker>, gzip when accepted', z.string(), { mediaType: 'text/javascript', headers: { ETag: { type: 'string', description: 'The bundle hash' } } }),
        304: bodiless('The If-None-Match ETag is still current'),
        503: refusal('The widget was not built (RATES_NOT_READY)', RETRY_AFTER)
      }
    }
  }, async (request, reply) => send(request, reply, ALIAS_CACHE))
  if (bundle !== undefined) {
    fastify.get(`/${bundle.file}`, { schema: { hide: true } }, async (request, reply) => send(request, reply, IMMUTABLE_CACHE))
  }

  // the words of the widget's other languages, fetched by the bundle from its hashed name (never revalidated);
  // /widget.i18n.<lang>.json is the same pack under a stable name, kept briefly like /widget.js
  for (const [lang, pack] of await loadPacks(dir)) {
    fastify.get(`/${pack.file}`, { schema: { hide: true } }, async (request, reply) => send(request, reply, IMMUTABLE_CACHE, pack))
    fastify.get(`/widget.i18n.${lang}.json`, { schema: { hide: true } }, async (request, reply) => send(request, reply, ALIAS_CACHE, pack))
  }

  // the page is the same bytes for every request: nothing in it comes from the Host or X-Forwarded-* headers,
  // so a shared cache cannot be made to serve another origin's script to everyone
  const page = demoPage()
  fastify.get('/', {
    schema: { operationId: 'getDemoPage', tags: ['widget'], summary: 'A demo page that embeds the widget', response: { 200: documented('The page', z.string(), { mediaType: 'text/html' }) } }
  }, async (_request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'public, max-age=300')
    return page
  })
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function demoPage (): string {
  const script = '<script src="/widget.js" async></script>'
  // what another site pastes: the service's public address, which only its operator knows
  const snippet = '<script src="https://fx.example.com/widget.js" async></script>'
  const element = '<fx-ticker symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker>'
  const dark = '<fx-ticker theme="dark" direction="USD/BASE" locale="de-DE"></fx-ticker>'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fx-ticker: Central Asian exchange rates against the US dollar</title>
<style>
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2125;background:#f6f7f9}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
p{margin:.5rem 0}
fx-ticker,[data-fx-ticker]{display:block;min-height:2.5em;margin:1rem 0;border:1px solid #d9dde3;border-radius:6px;overflow:hidden}
pre{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:.75rem 1rem;overflow-x:auto;font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}p code{white-space:nowrap}
ul{padding-left:1.25rem}a{color:#0b57b0}
</style>
</head>
<body>
<main>
<h1>fx-ticker</h1>
<p>Official exchange rates of the Kyrgyz som (KGS), Kazakhstani tenge (KZT), Tajikistani somoni (TJS), Uzbek sum (UZS) and Turkmen manat (TMT) against the US dollar, taken from the central banks, cross-checked against other public sources, and pushed live over WebSocket, Server-Sent Events and REST.</p>
${script}
${element}
${dark}
<h2>Embed it on your site</h2>
<p>Two lines, no dependencies, no cookies, no tracking; it talks only to this service (put its address in place of <code>fx.example.com</code>):</p>
<pre><code>${esc(snippet)}
${esc(element)}</code></pre>
<p>Attributes: <code>symbols</code>, <code>locale</code>, <code>theme</code> (<code>light</code>, <code>dark</code>, <code>auto</code>), <code>direction</code> (<code>BASE/USD</code> or <code>USD/BASE</code>), <code>speed</code> (pixels per second), <code>href</code> (a link for each pair; <code>{base}</code> is replaced), <code>src</code> (another service origin). Where a CMS strips unknown elements, use <code>&lt;div data-fx-ticker data-symbols="KZT,UZS"&gt;&lt;/div&gt;</code>. Colours and font follow the custom properties <code>--fx-bg</code>, <code>--fx-fg</code>, <code>--fx-up</code>, <code>--fx-down</code>, <code>--fx-muted</code>, <code>--fx-font</code>.</p>
<h2>API</h2>
<ul>
<li><a href="/v1/rates">/v1/rates</a>: the current snapshot (JSON, ETag)</li>
<li><a href="/openapi.json">/openapi.json</a>: the REST API</li>
<li><a href="/asyncapi.json">/asyncapi.json</a>: the WebSocket (<code>/v1/ws</code>) and SSE (<code>/v1/stream</code>) protocol</li>
</ul>
</main>
</body>
</html>
`
}

export default widgetRoutes
