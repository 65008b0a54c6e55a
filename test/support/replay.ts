import { startReplay } from '../../src/demo/replay.js'
import type { ReplayDay, ReplayServer } from '../../src/demo/replay.js'
import { sourceUrlVariable } from '../../src/config.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { FIXTURES } from './fixture-server.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** The recorded upstream payloads served on 127.0.0.1, closed when the test ends. */
export async function replay (t: Teardown, day: ReplayDay = '2025-11-25'): Promise<ReplayServer> {
  const server = await startReplay({ fixturesDir: FIXTURES, day })
  t.teardown(() => server.close())
  return server
}

/** FX_SOURCE_<ID>_URL for every source, pointing at a replay server. */
export function sourceEnv (server: ReplayServer): Record<string, string> {
  return Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), server.urlOf(id)]))
}

/** Polls `check` every 20 ms until it returns a value, for at most `timeoutMs`. */
export async function until<T> (check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
