import type { StoreLog } from './store.js'

export interface RetryingWriterOptions {
  /** Writes the newest state; every attempt and retry calls it again, so a retry never writes an old state. */
  write: () => Promise<void>
  /**
   * First retry delay after a failure; then retryMinMs plus as long as the writes have been failing, so the
   * delay doubles with time (not with the attempts publishes made meanwhile) up to retryMaxMs.
   */
  retryMinMs: number
  retryMaxMs: number
  log: StoreLog
  /** Added to each log line, e.g. the file written. */
  context: object
}

export interface RetryingWriter {
  /**
   * Marks the state changed. Resolves once a write covering the change is durable; rejects with the error
   * of the first attempt covering it that failed, while retries carry on until one succeeds.
   */
  changed: () => Promise<void>
  /** True while the durable copy lags what was marked changed. */
  behind: () => boolean
  /** Stops retrying; one last attempt when behind. Never rejects: its failure is logged. */
  close: () => Promise<void>
}

/**
 * One write at a time, newest state first, retried with capped exponential backoff until it lands: a disk
 * that fails once (full, read-only, a directory in the way) must not leave the file behind memory for good.
 */
export function createRetryingWriter ({ write, retryMinMs, retryMaxMs, log, context }: RetryingWriterOptions): RetryingWriter {
  let version = 0
  let written = 0
  let failures = 0
  let failingSince = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let chain: Promise<void> = Promise.resolve()

  const retryLater = (): void => {
    clearTimeout(timer)
    if (closed) return
    // a disk that recovers is written again within about as long as it had been failing
    const delay = Math.min(retryMaxMs, retryMinMs + Date.now() - failingSince)
    timer = setTimeout(() => { attempt(version).catch(() => {}) }, delay)
    // a pending retry must not keep a process alive that has nothing else to do
    timer.unref()
  }

  const attempt = (target: number): Promise<void> => {
    const run = chain.then(async () => {
      if (written >= target) return
      const covering = version
      try {
        await write()
      } catch (err) {
        if (failures === 0) {
          log.error({ ...context, err }, 'state write failed; retrying')
          failingSince = Date.now()
        }
        failures++
        retryLater()
        throw err
      }
      written = covering
      if (failures > 0 && written >= version) {
        log.info({ ...context, attempts: failures + 1 }, 'state write recovered')
        failures = 0
        clearTimeout(timer)
      }
    })
    chain = run.catch(() => {})
    return run
  }

  return {
    changed: () => attempt(++version),
    behind: () => written < version && failures > 0,
    async close () {
      closed = true
      clearTimeout(timer)
      await chain
      if (written >= version) return
      await attempt(version).catch((err: unknown) => {
        log.error({ ...context, err }, 'state not persisted at shutdown')
      })
    }
  }
}
