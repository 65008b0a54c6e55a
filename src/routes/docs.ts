import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import { ApiDocumentSchema, documented } from '../domain/responses.js'
import { asyncApiDocument } from './asyncapi.js'
import { openApiOptions } from './openapi.js'

/**
 * /openapi.json and /asyncapi.json, both generated from the zod schemas the service validates with.
 * Not encapsulated, unlike the other routes: the OpenAPI generator must see every route the app adds
 * after it, so register it before them.
 */
export default fp(async (fastify) => {
  await fastify.register(swagger, openApiOptions)
  fastify.get('/openapi.json', {
    schema: {
      operationId: 'getOpenApiDocument',
      tags: ['documents'],
      summary: 'This OpenAPI document',
      response: { 200: documented('The OpenAPI 3.0 document of the REST, push and operations routes', ApiDocumentSchema) }
    }
  }, async () => fastify.swagger())

  const asyncApi = asyncApiDocument()
  fastify.get('/asyncapi.json', {
    schema: {
      operationId: 'getAsyncApiDocument',
      tags: ['documents'],
      summary: 'The AsyncAPI document of the push messages',
      response: { 200: documented('The AsyncAPI 3.0 document of /v1/ws and /v1/stream', ApiDocumentSchema) }
    }
  }, async () => asyncApi)
}, { name: 'docs', fastify: '5.x' })
