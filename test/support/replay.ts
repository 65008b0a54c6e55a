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
  // backfill has tests of its own (FX_HISTORY_DAYS set there); elsewhere only the live path runs
  return { ...Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), server.urlOf(id)])), FX_HISTORY_DAYS: '0' }
}
