import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { AppDeps } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import { createMemoryStore } from '../../src/store/memory.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface BuildOptions extends Partial<Omit<AppDeps, 'config'>> {
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>
}

/** The test configuration: the documented defaults with quiet logs and fast timers. */
export function testConfig (env: Record<string, string> = {}): Config {
  // backfill has tests of its own; elsewhere only the live path runs
  return loadConfig({ LOG_LEVEL: 'silent', FX_STATE_DIR: '/nonexistent', FX_HISTORY_DAYS: '0', ...env })
}

/** An app on the memory engine with no upstream sources unless given; closed when the test ends. */
export async function build (t: Teardown, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = testConfig(options.env)
  const app = await buildApp({
    config,
    store: options.store ?? createMemoryStore({ quote: config.quote }),
    sources: options.sources ?? [],
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.now !== undefined && { now: options.now }),
    logger: options.logger ?? false
  })
  t.teardown(() => app.close())
  await app.ready()
  return app
}
