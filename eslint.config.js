import neostandard from 'neostandard'

const LAYERS = ['domain', 'sources', 'reconciler', 'poller', 'history', 'store', 'plugins', 'routes', 'hub', 'widget', 'client', 'demo']
const TOP = ['../app.js', '../server.js', '../config.js']

/** Each folder may import only the folders named in `allowed`, and none of the listed packages. */
const layer = (folder, allowed, packages = [], top = TOP) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{
        group: [...LAYERS.filter((l) => l !== folder && !allowed.includes(l)).map((l) => `../${l}/*`), ...top, ...packages],
        message: `src/${folder}/ may import only ${allowed.length > 0 ? allowed.join(', ') : 'nothing else in src'}`
      }]
    }]
  }
})

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'test/artifacts/**', 'test/fixtures/**', '.tap/**'] }),
  layer('domain', [], ['fastify*', '@fastify/*', 'undici', 'ioredis', 'ws']),
  layer('sources', ['domain'], ['fastify*', '@fastify/*', 'ioredis', 'ws']),
  layer('reconciler', ['domain'], ['fastify*', '@fastify/*', 'undici', 'ioredis', 'ws']),
  layer('store', ['domain'], ['fastify*', '@fastify/*', 'undici', 'ws']),
  layer('poller', ['domain', 'sources', 'reconciler', 'store'], ['fastify*', '@fastify/*', 'ioredis', 'ws']),
  layer('history', ['domain', 'sources', 'reconciler', 'store'], ['fastify*', '@fastify/*', 'ioredis', 'ws']),
  layer('plugins', ['domain', 'sources', 'reconciler', 'poller', 'history', 'store'], [], ['../app.js', '../server.js']),
  layer('routes', ['domain', 'store', 'hub'], ['ioredis', 'undici']),
  layer('hub', ['domain', 'store'], ['ioredis', 'undici']),
  layer('client', ['domain'], ['fastify*', '@fastify/*', 'undici', 'ioredis', 'ws', 'node:*']),
  layer('widget', ['domain', 'client'], ['fastify*', '@fastify/*', 'undici', 'ioredis', 'ws', 'node:*']),
  // demo/ is an entry point like server.ts: it may import anything
]
