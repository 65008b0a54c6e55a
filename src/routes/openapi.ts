import type { FastifyDynamicSwaggerOptions, SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import type { OpenAPIV3 } from 'openapi-types'

const REF = '#/components/schemas/'
// a handler may send `null` for these, which fastify needs a schema for; the wire carries no body
const BODILESS = new Set(['101', '204', '304'])

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null

/**
 * zod's transform, plus what it leaves out of a route's `{ description, headers, content }` responses:
 * the response headers, and no content where the status has no body.
 */
const transform: SwaggerTransform = (input) => {
  const out = jsonSchemaTransform(input)
  // routes declared without a schema (none here, but plugins and tests add some) have nothing to amend
  const declared = (input.schema as { response?: unknown } | undefined)?.response
  const responses = (out.schema as { response?: unknown } | undefined)?.response
  if (!isObject(declared) || !isObject(responses)) return out
  for (const [status, doc] of Object.entries(responses)) {
    const source = declared[status]
    const headers = isObject(source) && isObject(source.headers) ? { headers: source.headers } : {}
    if (BODILESS.has(status)) responses[status] = { type: 'null', description: isObject(doc) ? doc.description : undefined, ...headers }
    else if (isObject(doc)) responses[status] = { ...doc, ...headers }
  }
  return out
}

/**
 * The components zod registered, keeping only those the paths reach: every registered schema also comes
 * as an `…Input` twin, which only request schemas would use.
 */
const transformObject: SwaggerTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input) as OpenAPIV3.Document
  const schemas = doc.components?.schemas ?? {}
  const reached = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(visit); return }
    if (!isObject(node)) return
    const ref = node.$ref
    if (typeof ref === 'string' && ref.startsWith(REF) && !reached.has(ref.slice(REF.length))) {
      reached.add(ref.slice(REF.length))
      visit(schemas[ref.slice(REF.length)])
    }
    Object.values(node).forEach(visit)
  }
  visit(doc.paths)
  const kept = Object.fromEntries(Object.entries(schemas).filter(([id]) => reached.has(id)))
  return { ...doc, components: { ...doc.components, schemas: kept } }
}

const DESCRIPTION = [
  'Official exchange rates of KGS, KZT, TJS, UZS and TMT against USD, reconciled across central banks.',
  '',
  'Errors are `{ "error": "RATES_…", "message": "…" }`. `seq` orders snapshots: it is the REST `ETag`, the SSE event id',
  'and the WebSocket `since`. REST routes under `/v1` are limited per client address (429 with `Retry-After`).',
  'While an instance shuts down, any route may answer 503 with `Connection: close`; retry on another instance.',
  'The push messages of `/v1/ws` and `/v1/stream` are described by the AsyncAPI document at `/asyncapi.json`.'
].join('\n')

/** How @fastify/swagger builds /openapi.json from the same zod schemas that validate requests and responses. */
export const openApiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'fx-ticker',
      description: DESCRIPTION,
      version: '1',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' }
    },
    servers: [{ url: '/', description: 'The origin that serves this document' }],
    // public data: no operation takes credentials
    security: [],
    tags: [
      { name: 'rates', description: 'The published rates and their daily history' },
      { name: 'push', description: 'Streams of snapshots and updates: WebSocket and Server-Sent Events' },
      { name: 'operations', description: 'Health checks and metrics for orchestrators and monitoring' },
      { name: 'widget', description: 'The embeddable ticker and its demo page' },
      { name: 'documents', description: 'The machine-readable descriptions of this service' }
    ]
  },
  transform,
  transformObject
}
