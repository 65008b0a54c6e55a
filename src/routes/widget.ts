import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { readFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { RETRY_AFTER, bodiless, documented, refusal } from '../domain/responses.js'
import { etagMatches } from './conditional.js'
import { demoPage } from './demo-page.js'

/** dist/widget/ both from src/routes/ (tsx, tests) and from dist/routes/ (production). */
export const WIDGET_DIR = new URL('../../dist/widget/', import.meta.url)

export interface WidgetRoutesOptions {
  /** Where scripts/build-widget.js wrote widget.js and manifest.json. */
  dir?: URL
}

interface Manifest { file: string, hash: string, charts?: { file: string, hash: string }, i18n?: { hash: string, files: Record<string, string> } }
interface Bundle { file: string, etag: string, raw: Buffer, gzip: Buffer, type: string }

// the alias may change with a deploy, so caches keep it briefly; the hashed file never changes
const ALIAS_CACHE = 'public, max-age=300, stale-while-revalidate=86400'
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable'

/** The widget, or with `charts` the demo page's chart script, as the manifest names it. */
async function loadBundle (dir: URL, charts = false): Promise<Bundle | undefined> {
  try {
    const manifest = JSON.parse(await readFile(new URL('manifest.json', dir), 'utf8')) as Manifest
    const { file, hash } = (charts ? manifest.charts : manifest) ?? {}
    return file === undefined || hash === undefined ? undefined : await asset(dir, file, hash, 'text/javascript; charset=utf-8')
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

  // the demo page's charts, under the stable name the page uses and its immutable one
  const charts = await loadBundle(dir, true)
  fastify.get('/charts.js', { schema: { hide: true } }, async (request, reply) => send(request, reply, ALIAS_CACHE, charts))
  if (charts !== undefined) fastify.get(`/${charts.file}`, { schema: { hide: true } }, async (request, reply) => send(request, reply, IMMUTABLE_CACHE, charts))

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

export default widgetRoutes
