import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { loggerOptions } from './plugins/access-log.js'
import { isRatesError } from './domain/errors.js'
import { createSources } from './sources/index.js'
import { createStore } from './store/index.js'

/** Entry point: the only reader of process.env. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (!isRatesError(err, 'RATES_CONFIG')) throw err
    process.stderr.write(`fx-ticker: invalid configuration\n${err.message}\n`)
    process.exit(1)
  }
  const logger = pino(loggerOptions(config.logLevel))
  const store = await createStore(config, logger.child({ component: 'store' }))
  const app = await buildApp({ config, store, sources: createSources(config), logger })
  closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'closing after an error')
    else logger.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`fx-ticker: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
