// Shared arithmetic and plumbing of the benchmarks: order statistics, formatting, the results folder.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../support/process.js'

export const RESULTS = join(ROOT, 'test', 'bench', 'results')
export const QUICK = process.argv.includes('--quick')

/** The p-th percentile of an ascending array (nearest rank). */
export function pct (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number
}

export function median (xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Median of the repetitions with their range, the form every figure is printed in. */
export interface Figure { median: number, min: number, max: number, n: number }

export function figure (xs: readonly number[]): Figure {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length }
}

/** `12.3 (11.9–13.0)`: median and range of the repetitions. */
export function show (f: Figure, digits = 1): string {
  if (!Number.isFinite(f.median)) return 'n/a'
  if (f.n < 2) return f.median.toFixed(digits)
  return `${f.median.toFixed(digits)} (${f.min.toFixed(digits)}–${f.max.toFixed(digits)})`
}

export function ratio (a: number, b: number): number {
  return b === 0 ? (a === 0 ? 1 : Infinity) : a / b
}

export function table (header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)).join('  ')).join('\n')
}

/** Each benchmark leaves its figures here for run.ts to gather into latest.json and the targets table. */
export function writePart (name: string, data: unknown): void {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify(data, null, 2) + '\n')
}

export function readPart<T> (name: string): T | undefined {
  try {
    return JSON.parse(readFileSync(join(RESULTS, `${name}.json`), 'utf8')) as T
  } catch {
    return undefined
  }
}

/** Rejects after `ms`, so that no stalled contender can hang the run. */
export async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** `taskset -c <core>` in front of a command where taskset exists and the machine has two cores or more. */
export function pinned (core: number, cmd: string, args: string[]): [string, string[]] {
  if (HAS_TASKSET) return ['taskset', ['-c', String(core), cmd, ...args]]
  return [cmd, args]
}

const HAS_TASKSET = availableParallelism() >= 2 && ['/usr/bin/taskset', '/bin/taskset'].some((p) => existsSync(p))
