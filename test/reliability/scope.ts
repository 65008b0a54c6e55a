import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A cleanup registry shaped like tap's `t`, so the test/support helpers can be reused outside tap.
 * Teardowns run in reverse order; every open scope is also torn down synchronously when the process
 * exits (a timeout, Ctrl-C, a crash), so no child process or temporary directory outlives the run.
 */
export interface Scope {
  teardown: (fn: () => unknown) => void
  /** A temporary directory removed with the scope. */
  tempDir: (prefix: string) => string
  close: () => Promise<void>
}

const open = new Set<Array<() => unknown>>()

export function createScope (): Scope {
  const fns: Array<() => unknown> = []
  open.add(fns)
  return {
    teardown: (fn) => { fns.push(fn) },
    tempDir (prefix) {
      const dir = mkdtempSync(join(tmpdir(), `fx-rel-${prefix}-`))
      fns.push(() => rmSync(dir, { recursive: true, force: true }))
      return dir
    },
    async close () {
      open.delete(fns)
      for (const fn of fns.splice(0).reverse()) {
        try {
          await bounded(Promise.resolve(fn()), 5000, 'teardown')
        } catch { /* the rest must still run */ }
      }
    }
  }
}

/** Runs every pending teardown without waiting: child processes are SIGKILLed synchronously by theirs. */
export function abandonAll (): void {
  for (const fns of open) {
    for (const fn of fns.splice(0).reverse()) {
      try {
        const result = fn()
        if (result instanceof Promise) result.catch(() => {})
      } catch { /* best effort on the way out */ }
    }
  }
  open.clear()
}

process.on('exit', abandonAll)

/** Rejects when `promise` has not settled within `ms`. */
export async function bounded<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `ms`: pacing for load generators and probes, never a wait for a condition. */
export const tick = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Polls `check` until it returns a value, for at most `timeoutMs`; undefined on timeout (the caller reports it). */
export async function waitFor<T> (check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) return undefined
    await tick(everyMs)
  }
}

export const today = (): string => new Date().toISOString().slice(0, 10)

/** `iso` moved by `days` (UTC calendar arithmetic; the runner's own, independent of the service's). */
export function plusDays (iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10)
}

export const daysBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000)

export const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b)

export const ms = (n: number): string => `${Math.round(n)} ms`
export const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MB`
