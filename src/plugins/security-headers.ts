import Fastify from 'fastify'
import type { FastifyHelmetOptions } from '@fastify/helmet'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'

/**
 * The headers @fastify/helmet sets with `options`, worked out once on a throwaway instance: with static
 * directives (no nonces, no functions) they depend on nothing in the request, while the plugin itself
 * rebuilds helmet and reparses the policy on every request.
 */
export async function helmetHeaders (options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false })
  await probe.register(helmet, options)
  // helmet writes to the raw response; fastify's own headers stay on the reply until it is sent
  probe.get('/', async (_request, reply) => Object.fromEntries(Object.entries(reply.raw.getHeaders()).map(([k, v]) => [k, String(v)])))
  try {
    return (await probe.inject('/')).json()
  } finally {
    await probe.close()
  }
}

/** Helmet's security headers on every answer, at the cost of one header copy per request. */
export default fp<FastifyHelmetOptions>(async (fastify, options) => {
  const headers = await helmetHeaders(options)
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}, { name: 'security-headers', fastify: '5.x' })
