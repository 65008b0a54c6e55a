// The REST baseline: a bare Fastify process answering each benchmarked request with the bytes and headers
// the service gave for it, recorded beforehand. What the service does beyond this is its own cost.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

/** One recorded exchange: the request's path and If-None-Match, the service's status, headers and body. */
export interface Recording { path: string, ifNoneMatch?: string, status: number, headers: Record<string, string>, body: string }

const recordings = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Recording[]
const app = Fastify({ logger: false })
const byRoute = new Map<string, Recording[]>()
for (const r of recordings) {
  const route = r.path.split('?')[0] as string
  byRoute.set(route, [...(byRoute.get(route) ?? []), r])
}
for (const [route, list] of byRoute) {
  const answers = list.map((r) => ({ ...r, bytes: Buffer.from(r.body) }))
  app.get(route, (request, reply) => {
    const inm = request.headers['if-none-match']
    const hit = answers.find((a) => a.path === request.url && a.ifNoneMatch === inm) ?? answers.find((a) => a.path === request.url && a.ifNoneMatch === undefined)
    if (hit === undefined) return reply.code(404).send()
    reply.code(hit.status).headers(hit.headers)
    return hit.status === 304 ? reply.send() : reply.send(hit.bytes)
  })
}
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
