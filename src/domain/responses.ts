import { z } from 'zod'

/**
 * The body of every refused request, REST and push alike: `error` is the stable `RATES_*` code a client
 * branches on, `message` names the parameter or the cause for a human.
 */
export const ErrorSchema = z.object({
  error: z.string().describe('Stable code, such as RATES_BAD_REQUEST or RATES_NOT_READY'),
  message: z.string().describe('What was wrong, naming the parameter; generic for server faults')
}).meta({ id: 'Error' })

/** A response header as OpenAPI lists it. */
export interface HeaderDoc { type: 'string' | 'integer', description: string }
export type HeaderDocs = Record<string, HeaderDoc>

export const RETRY_AFTER: HeaderDocs = { 'Retry-After': { type: 'integer', description: 'Seconds to wait before trying again' } }

/**
 * A route's response in fastify's per-media-type form: fastify serialises with `schema`, the OpenAPI
 * document shows `description` and `headers` (copied over by the docs plugin).
 */
export function documented<T extends z.ZodType, M extends string = 'application/json'> (
  description: string, schema: T, options: { headers?: HeaderDocs, mediaType?: M } = {}
): { description: string, headers?: HeaderDocs, content: Record<M, { schema: T }> } {
  const mediaType = options.mediaType ?? 'application/json'
  return {
    description,
    ...(options.headers !== undefined && { headers: options.headers }),
    content: { [mediaType]: { schema } } as Record<M, { schema: T }>
  }
}

/** A refusal with the `{ error, message }` body. */
export const refusal = (description: string, headers?: HeaderDocs) => documented(description, ErrorSchema, headers === undefined ? {} : { headers })

/** A response without a body (101, 304): the docs plugin lists no content for it; `null` is what a handler sends. */
export const bodiless = (description: string, headers?: HeaderDocs) => documented(description, z.null(), headers === undefined ? {} : { headers })

/** Why /v1/ws and /v1/stream refuse to open a stream: plain HTTP answers, before any upgrade. */
export const pushRefusals = {
  400: refusal('`symbols` names a currency the service does not serve, or `since` is not a seq (RATES_BAD_REQUEST)'),
  403: refusal('The page\'s Origin is not in CORS_ORIGINS (RATES_FORBIDDEN)'),
  429: refusal('This address holds WS_MAX_CONNECTIONS_PER_IP streams already (RATES_TOO_MANY_CONNECTIONS)', RETRY_AFTER),
  503: refusal('This instance holds WS_MAX_CONNECTIONS streams (RATES_TOO_MANY_CONNECTIONS) or is shutting down (RATES_NOT_READY): retry, another instance may take it', RETRY_AFTER)
}

/** /openapi.json and /asyncapi.json, described only as far as a client needs. */
export const ApiDocumentSchema = z.looseObject({}).meta({ id: 'ApiDocument', description: 'An OpenAPI 3.0 or AsyncAPI 3.0 document' })
