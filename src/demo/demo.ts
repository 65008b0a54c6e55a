import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from '../app.js'
import { loadConfig, sourceUrlVariable } from '../config.js'
import { SOURCE_IDS } from '../domain/sources.js'
import { loggerOptions } from '../plugins/access-log.js'
import { createSources } from '../sources/index.js'
import { createStore } from '../store/index.js'
import { daysSince, startReplay } from './replay.js'

// the recordings live once, with the tests; the image copies them to the same place relative to dist/
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'upstream')
const RECORDED_DAY = '2025-11-26'

/**
 * `npm run demo`: replays the recorded upstream payloads on loopback, moved to today's dates, and runs the
 * service against them: the previous day first, then (after DEMO_SWITCH_MS) the current one, so the
 * rates, their change and a moving seq can be watched without network.
 */
async function main (): Promise<void> {
  const logger = pino(loggerOptions(process.env.LOG_LEVEL ?? 'info'))
  if (!existsSync(FIXTURES)) throw new Error(`the recorded upstream payloads are missing: expected them in ${FIXTURES}`)
  // replayed data must never reach a real state file or a shared Redis: the demo keeps its state in a
  // directory of its own, removed however the process ends
  const stateDir = mkdtempSync(join(tmpdir(), 'fx-ticker-demo-'))
  process.once('exit', () => { rmSync(stateDir, { recursive: true, force: true }) })
  const shiftDays = daysSince(RECORDED_DAY)
  const replay = await startReplay({ fixturesDir: FIXTURES, day: '2025-11-25', shiftDays })
  const env: Record<string, string | undefined> = {
    FX_POLL_INTERVAL_MS: '3000',
    // the archives are replayed on loopback: no bank to be polite to, so a year arrives in seconds
    FX_HISTORY_PACE_MS: '10',
    ...process.env,
    FX_STATE_DIR: stateDir,
    REDIS_URL: undefined,
    ...Object.fromEntries(SOURCE_IDS.map((id) => [sourceUrlVariable(id), replay.urlOf(id)]))
  }
  const config = loadConfig(env)
  logger.warn({ replay: replay.url, fixtures: FIXTURES, recorded: ['2025-11-25', RECORDED_DAY], shiftDays },
    'demo mode: upstream data is REPLAYED from recorded payloads (dates moved to today), not live rates')
  const store = await createStore(config, logger.child({ component: 'store' }))
  const app = await buildApp({ config, store, sources: createSources(config), logger })
  const switchMs = Number(process.env.DEMO_SWITCH_MS ?? 15_000)
  const timer = setTimeout(() => {
    replay.setDay('2025-11-26')
    logger.warn({ shiftDays }, 'demo mode: replay switched to the next recorded day; watch the change and seq move')
  }, switchMs)
  closeWithGrace({ delay: 10_000, logger }, async () => {
    clearTimeout(timer)
    await app.close()
    await replay.close()
    rmSync(stateDir, { recursive: true, force: true })
  })
  await app.listen({ host: config.host, port: config.port })
  const port = (app.server.address() as { port: number }).port
  logger.info({ url: `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}/` }, 'demo page')
}

main().catch((err: unknown) => {
  process.stderr.write(`fx-ticker demo: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
