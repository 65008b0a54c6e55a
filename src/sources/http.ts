import { request } from 'undici'
import type { Dispatcher } from 'undici'
import { RatesError, isRatesError } from '../domain/errors.js'
import type { FetchContext } from './source.js'

export interface FetchedText {
  text: string
  /** True when the upstream answered 304 and the cached body was reused. */
  notModified: boolean
  contentType: string
}

/**
 * GETs a URL with the poller's dispatcher, size cap and conditional validators, and decodes the body by
 * its declared charset (header, then XML prolog, then BOM; UTF-8 otherwise). The whole request, headers
 * and body together, ends within ctx.timeoutMs (RATES_SOURCE_TIMEOUT): undici's bodyTimeout is per chunk,
 * so a body dripping one byte at a time would otherwise hold the poll forever.
 * Non-2xx answers throw RATES_SOURCE_HTTP carrying the status.
 */
export async function fetchText (id: string, url: string, ctx: FetchContext): Promise<FetchedText> {
  const deadline = requestDeadline(id, ctx.signal, ctx.timeoutMs)
  try {
    return await fetchWithin(id, url, ctx, deadline.signal)
  } catch (err) {
    throw explain(id, err, deadline.signal)
  } finally {
    deadline.clear()
  }
}

async function fetchWithin (id: string, url: string, ctx: FetchContext, signal: AbortSignal): Promise<FetchedText> {
  const cached = ctx.cache.get(url)
  const headers: Record<string, string> = {
    'user-agent': ctx.userAgent,
    accept: 'application/xml, text/xml, application/json, */*;q=0.5',
    'accept-language': 'en-US,en;q=0.8,ru;q=0.6'
  }
  if (cached?.etag !== undefined) headers['if-none-match'] = cached.etag
  if (cached?.lastModified !== undefined) headers['if-modified-since'] = cached.lastModified
  const res = await request(url, {
    dispatcher: ctx.dispatcher,
    signal,
    headers,
    headersTimeout: ctx.timeoutMs,
    bodyTimeout: ctx.timeoutMs
  })
  const contentType = headerOf(res.headers['content-type'])
  if (res.statusCode === 304 && cached !== undefined) {
    await res.body.dump()
    return { text: cached.text, notModified: true, contentType }
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump()
    throw new RatesError('RATES_SOURCE_HTTP', `${id}: upstream answered HTTP ${res.statusCode}`, 502, { upstreamStatus: res.statusCode })
  }
  const bytes = await readCapped(id, res.body, ctx.maxBytes, headerOf(res.headers['content-length']))
  const text = decode(bytes, contentType)
  const etag = headerOf(res.headers.etag)
  const lastModified = headerOf(res.headers['last-modified'])
  if (etag !== '' || lastModified !== '') {
    ctx.cache.set(url, { text, ...(etag !== '' && { etag }), ...(lastModified !== '' && { lastModified }) })
  } else {
    ctx.cache.delete(url)
  }
  return { text, notModified: false, contentType }
}

interface Deadline { signal: AbortSignal, clear: () => void }

/**
 * The caller's signal plus this request's own deadline. A plain controller and timer held by this
 * closure, not AbortSignal.any with AbortSignal.timeout: on Node 20 the combined signal stops firing
 * once the collector has taken the timeout signal, which nothing else references.
 */
function requestDeadline (id: string, outer: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController()
  const onOuter = (): void => { controller.abort(outer.reason) }
  const timer = setTimeout(() => {
    controller.abort(new RatesError('RATES_SOURCE_TIMEOUT', `${id}: no complete answer within ${timeoutMs} ms`, 504))
  }, timeoutMs)
  if (outer.aborted) onOuter()
  else outer.addEventListener('abort', onOuter, { once: true })
  return {
    signal: controller.signal,
    clear () {
      clearTimeout(timer)
      outer.removeEventListener('abort', onOuter)
    }
  }
}

const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])

/** Every failure of a request becomes a typed source error; an abort reports its reason. */
function explain (id: string, err: unknown, signal: AbortSignal): RatesError {
  if (signal.aborted) {
    const reason: unknown = signal.reason
    if (isRatesError(reason)) return reason
    const timedOut = (reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
    return new RatesError(timedOut ? 'RATES_SOURCE_TIMEOUT' : 'RATES_SOURCE_NETWORK', `${id}: aborted: ${describeNetworkError(reason)}`, timedOut ? 504 : 502, { cause: err })
  }
  if (isRatesError(err)) return err
  const code = (err as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && UNDICI_TIMEOUTS.has(code)) {
    return new RatesError('RATES_SOURCE_TIMEOUT', `${id}: ${describeNetworkError(err)}`, 504, { cause: err })
  }
  return new RatesError('RATES_SOURCE_NETWORK', `${id}: ${describeNetworkError(err)}`, 502, { cause: err })
}

function headerOf (value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? ''
}

async function readCapped (id: string, body: Dispatcher.ResponseData['body'], maxBytes: number, declared: string): Promise<Buffer> {
  if (declared !== '' && Number(declared) > maxBytes) {
    // destroyed, not dumped: dumping would wait for the very bytes that are refused
    body.destroy()
    throw new RatesError('RATES_SOURCE_TOO_LARGE', `${id}: body of ${declared} bytes exceeds the ${maxBytes}-byte cap`, 502)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > maxBytes) {
      body.destroy()
      throw new RatesError('RATES_SOURCE_TOO_LARGE', `${id}: body exceeds the ${maxBytes}-byte cap`, 502)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, size)
}

/** Decodes bytes by the charset the payload declares; a BOM wins, as browsers do. */
export function decode (bytes: Uint8Array, contentType = ''): string {
  const charset = bomCharset(bytes) ?? headerCharset(contentType) ?? prologCharset(bytes) ?? 'utf-8'
  let decoder: InstanceType<typeof TextDecoder>
  try {
    decoder = new TextDecoder(charset)
  } catch {
    decoder = new TextDecoder('utf-8')
  }
  return decoder.decode(bytes)
}

function bomCharset (bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8'
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le'
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be'
  return undefined
}

function headerCharset (contentType: string): string | undefined {
  return /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType)?.[1]?.toLowerCase()
}

function prologCharset (bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1')
  return /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1]?.toLowerCase()
}

function describeNetworkError (err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? `${code} ${err.message}` : err.message
  }
  return String(err)
}
