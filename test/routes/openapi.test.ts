import { execFile } from 'node:child_process'
import http from 'node:http'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { WebSocket } from 'ws'
import { build } from '../support/build.js'
import { ROOT } from '../support/process.js'
import { fiveRates, publishInput } from '../support/snapshot.js'
import { connect, listen } from '../hub/clients.js'

interface Response { description: string, content?: Record<string, { schema: { $ref?: string } }> }
interface Operation { operationId?: string, tags?: string[], summary?: string, responses: Record<string, Response> }
interface OpenApi {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown> }
}

interface Totals { errors: number, warnings: number, ignored: number }

/** Runs the project's redocly.yaml over the documents the app serves, as a developer would from the shell. */
async function lint (t: Test, docs: Record<string, unknown>): Promise<{ totals: Totals, problems: unknown[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'fx-ticker-openapi-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const files = await Promise.all(Object.entries(docs).map(async ([name, doc]) => {
    const file = join(dir, name)
    await writeFile(file, JSON.stringify(doc, null, 2))
    return file
  }))
  const pkg = createRequire(import.meta.url).resolve('@redocly/cli/package.json')
  const bin = (JSON.parse(await readFile(pkg, 'utf8')) as { bin: Record<string, string> }).bin.redocly ?? 'bin/cli.js'
  const { stdout } = await promisify(execFile)(process.execPath, [join(dirname(pkg), bin), 'lint', '--config', join(ROOT, 'redocly.yaml'), '--format=json', ...files], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 16 * 1024 * 1024
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  // one pretty-printed report per file, back to back: `}` and `{` meet only between two reports
  const reports = JSON.parse(`[${stdout.trim().replace(/\n\}\{\n/g, '\n},{\n')}]`) as Array<{ totals: Totals, problems: unknown[] }>
  t.equal(reports.length, files.length, 'one report per document')
  return {
    totals: reports.reduce((sum, r) => ({ errors: sum.errors + r.totals.errors, warnings: sum.warnings + r.totals.warnings, ignored: sum.ignored + r.totals.ignored }), { errors: 0, warnings: 0, ignored: 0 }),
    problems: reports.flatMap((r) => r.problems)
  }
}

const served = async (app: FastifyInstance, url: string): Promise<Record<string, unknown>> => (await app.inject(url)).json()

t.test('the served OpenAPI and AsyncAPI documents pass the maintained linter with the project rules', async (t) => {
  const app = await build(t)
  const result = await lint(t, { 'openapi.json': await served(app, '/openapi.json'), 'asyncapi.json': await served(app, '/asyncapi.json') })
  t.same(result.problems, [], 'no problem reported')
  t.same(result.totals, { errors: 0, warnings: 0, ignored: 0 })
})

t.test('the linter configuration is not a no-op: a document missing what the issue asked for fails it', async (t) => {
  const app = await build(t)
  const doc = await served(app, '/openapi.json') as unknown as OpenApi & { info: Record<string, unknown>, servers?: unknown }
  const rates = doc.paths['/v1/rates']?.get as Operation
  delete rates.operationId
  delete rates.responses['429']
  delete doc.info.license
  delete doc.servers
  const history = (doc.paths['/v1/history/{base}']?.get as Operation).responses['400'] as Response
  history.content = { 'application/json': { schema: { type: 'object' } as { $ref?: string } } }
  const result = await lint(t, { 'openapi.json': doc })
  const rules = new Set(result.problems.map((p) => (p as { ruleId: string }).ruleId))
  for (const rule of ['operation-operationId', 'rule/v1-client-errors', 'info-license', 'no-empty-servers', 'rule/refusals-are-error', 'rule/json-bodies-named']) {
    t.ok(rules.has(rule), `${rule} reports`)
  }
})

t.test('every operation is named and tagged, and the wire types are named components both documents share', async (t) => {
  const app = await build(t)
  const doc = await served(app, '/openapi.json') as unknown as OpenApi
  const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId))
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  t.notOk(ids.includes(undefined), 'every operation has an operationId')
  for (const name of ['Rate', 'Snapshot', 'Error', 'Fixing', 'History', 'Histories', 'RateAt', 'RateAnswer', 'SourceVote', 'Change', 'Basis', 'Cadence', 'Ready', 'Health']) {
    t.ok(doc.components.schemas[name], `components.schemas.${name}`)
  }
  const json = (path: string, status: string): string | undefined => doc.paths[path]?.get?.responses[status]?.content?.['application/json']?.schema.$ref
  t.equal(json('/v1/rates', '200'), '#/components/schemas/Snapshot')
  t.equal(json('/v1/rates/{base}', '200'), '#/components/schemas/RateAnswer')
  t.match(doc.components.schemas.RateAnswer, { anyOf: [{ $ref: '#/components/schemas/Rate' }, { $ref: '#/components/schemas/RateAt' }], description: String }, 'Rate or, with `at`, RateAt')
  t.equal(json('/v1/history/{base}', '200'), '#/components/schemas/History')
  t.equal(json('/v1/history', '200'), '#/components/schemas/Histories')
  for (const path of ['/v1/history/{base}', '/v1/history']) {
    const op = doc.paths[path]?.get as Operation & { parameters: Array<{ name: string }> }
    t.match(op.responses['200']?.content?.['text/csv'], { schema: { type: 'string' } }, `${path} documents its CSV`)
    t.ok(op.responses['304'], `${path} documents 304`)
    t.same(op.parameters.map((p) => p.name).filter((n) => n !== 'symbols' && n !== 'base'), ['days', 'from', 'to', 'format'], `${path} documents its range`)
  }
  t.ok((doc.paths['/v1/rates/{base}']?.get as Operation & { parameters: Array<{ name: string }> }).parameters.some((p) => p.name === 'at'), 'documents at')
  t.equal(json('/v1/rates/{base}', '404'), '#/components/schemas/Error')
  t.equal(json('/readyz', '503'), '#/components/schemas/Ready')
  t.notOk(Object.keys(doc.components.schemas).some((name) => name.endsWith('Input')), 'no unused input twins')

  const asyncapi = await served(app, '/asyncapi.json') as { components: { schemas: Record<string, unknown>, messages: Record<string, { payload: unknown }> } }
  t.same(Object.keys(asyncapi.components.schemas).sort(), ['Basis', 'Cadence', 'Change', 'Rate', 'SourceVote'])
  for (const name of Object.keys(asyncapi.components.schemas)) t.ok(doc.components.schemas[name], `${name} has the same name in both documents`)
  t.match(asyncapi.components.messages.update?.payload, { properties: { rates: { items: { $ref: '#/components/schemas/Rate' } } } })
  t.notMatch(JSON.stringify(asyncapi), /#\/definitions\//, 'every reference resolves inside the document')
})

/** Collects what the app really answered and checks each against the document. */
function recorder (t: Test, doc: OpenApi) {
  const seen = new Set<string>()
  return {
    seen,
    check (operation: string, status: number, contentType: string | undefined, body: string): void {
      const [method = '', path = ''] = operation.split(' ')
      seen.add(operation)
      const documented = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)]
      if (!t.ok(documented, `${operation} answered ${status}, which the document lists`)) return
      const content = documented?.content
      if (status === 101 || status === 304) {
        t.equal(content, undefined, `${operation} ${status} has no body in the document either`)
        return
      }
      const media = (contentType ?? '').split(';')[0]?.trim() ?? ''
      t.ok(content?.[media], `${operation} ${status} answered ${media}, which the document lists`)
      if (content?.[media]?.schema.$ref === '#/components/schemas/Error') {
        t.match(JSON.parse(body), { error: /^RATES_/, message: String }, `${operation} ${status} carries an Error`)
      }
    }
  }
}

t.test('each documented route answers only with statuses and media types the document lists', async (t) => {
  // one trusted hop: a real connection from another address is the loopback with X-Forwarded-For
  const app = await build(t, { env: { CORS_ORIGINS: 'https://news.example', FX_TRUST_PROXY: '1', WS_MAX_CONNECTIONS: '2', WS_MAX_CONNECTIONS_PER_IP: '1' }, now: () => new Date('2025-11-26T12:00:00Z') })
  const doc = await served(app, '/openapi.json') as unknown as OpenApi
  const { seen, check } = recorder(t, doc)
  const get = async (operation: string, url: string, options: { headers?: Record<string, string>, remoteAddress?: string } = {}): Promise<void> => {
    const res = await app.inject({ url, ...options })
    check(operation, res.statusCode, res.headers['content-type'] as string | undefined, res.body)
  }

  await get('GET /v1/rates', '/v1/rates')
  await get('GET /v1/rates/{base}', '/v1/rates/KZT')
  await get('GET /readyz', '/readyz')
  await app.store.publish(publishInput(fiveRates()))
  await get('GET /v1/rates', '/v1/rates')
  await get('GET /v1/rates', '/v1/rates?symbols=KZT', { headers: { 'if-none-match': (await app.inject('/v1/rates?symbols=KZT')).headers.etag as string } })
  await get('GET /v1/rates', '/v1/rates?symbols=EUR')
  await get('GET /v1/rates/{base}', '/v1/rates/kzt')
  await get('GET /v1/rates/{base}', '/v1/rates/KZT', { headers: { 'if-none-match': (await app.inject('/v1/rates/KZT')).headers.etag as string } })
  await get('GET /v1/rates/{base}', '/v1/rates/EUR')
  await get('GET /v1/rates/{base}', '/v1/rates/K1')
  await get('GET /v1/history/{base}', '/v1/history/KZT?days=2')
  await get('GET /v1/history/{base}', '/v1/history/KZT?days=0')
  await get('GET /v1/history/{base}', '/v1/history/EUR')
  await get('GET /v1/history/{base}', '/v1/history/KZT?format=csv')
  await get('GET /v1/history/{base}', '/v1/history/KZT', { headers: { accept: 'text/csv' } })
  await get('GET /v1/history/{base}', '/v1/history/KZT', { headers: { 'if-none-match': (await app.inject('/v1/history/KZT')).headers.etag as string } })
  await get('GET /v1/history', '/v1/history?symbols=KZT,UZS')
  await get('GET /v1/history', '/v1/history?symbols=KZT,UZS&format=csv')
  await get('GET /v1/history', '/v1/history?symbols=EUR')
  await get('GET /v1/history', '/v1/history?symbols=KZT', { headers: { 'if-none-match': (await app.inject('/v1/history?symbols=KZT')).headers.etag as string } })
  await get('GET /v1/rates/{base}', '/v1/rates/KZT?at=2025-11-26')
  await get('GET /v1/rates/{base}', '/v1/rates/KZT?at=2000-01-01')
  await get('GET /v1/rates/{base}', '/v1/rates/KZT?at=2025-02-30')
  await get('GET /healthz', '/healthz')
  await get('GET /readyz', '/readyz')
  await get('GET /metrics', '/metrics')
  await get('GET /widget.js', '/widget.js') // 200 once built, 503 before
  await get('GET /', '/')
  await get('GET /openapi.json', '/openapi.json')
  await get('GET /asyncapi.json', '/asyncapi.json')
  await get('GET /v1/ws', '/v1/ws')
  await get('GET /v1/ws', '/v1/ws?symbols=EUR')
  await get('GET /v1/stream', '/v1/stream?since=yesterday')
  await get('GET /v1/stream', '/v1/stream', { headers: { origin: 'https://evil.example' } })

  const host = await listen(app)
  const ws = connect(t, `ws://${host}/v1/ws`)
  const upgraded = new Promise<number>((resolve) => ws.ws.once('upgrade', (res) => resolve(res.statusCode ?? 0)))
  await ws.opened
  check('GET /v1/ws', await upgraded, undefined, '')
  const foreign = new WebSocket(`ws://${host}/v1/ws`, { origin: 'https://evil.example' })
  t.teardown(() => foreign.terminate())
  foreign.on('error', () => {})
  const refused = await new Promise<http.IncomingMessage>((resolve) => foreign.once('unexpected-response', (_req, res) => resolve(res)))
  let body = ''
  for await (const chunk of refused) body += String(chunk)
  check('GET /v1/ws', refused.statusCode ?? 0, refused.headers['content-type'], body)
  await get('GET /v1/stream', '/v1/stream') // this address already holds its one stream
  await get('GET /v1/ws', '/v1/ws', { remoteAddress: '203.0.113.7' }) // admitted, then not an upgrade

  const req = http.get(`http://${host}/v1/stream`, { headers: { 'x-forwarded-for': '203.0.113.8' } })
  t.teardown(() => req.destroy())
  req.on('error', () => {})
  const stream = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve))
  check('GET /v1/stream', stream.statusCode ?? 0, stream.headers['content-type'], '')
  await get('GET /v1/ws', '/v1/ws', { remoteAddress: '203.0.113.9' }) // the instance holds its two streams

  const limited = await build(t, { env: { FX_RATE_LIMIT_PER_MIN: '1' } })
  await limited.store.publish(publishInput(fiveRates()))
  for (const [operation, url] of [['GET /v1/rates', '/v1/rates'], ['GET /v1/rates/{base}', '/v1/rates/KZT'], ['GET /v1/history/{base}', '/v1/history/KZT'], ['GET /v1/history', '/v1/history?symbols=KZT']] as const) {
    const addr = `198.51.100.${url.length}`
    await limited.inject({ url, remoteAddress: addr })
    const res = await limited.inject({ url, remoteAddress: addr })
    t.equal(res.statusCode, 429, `${url} is rate limited`)
    check(operation, res.statusCode, res.headers['content-type'] as string | undefined, res.body)
  }

  const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
  t.same([...seen].sort(), documented.sort(), 'every documented operation was tried')
})
