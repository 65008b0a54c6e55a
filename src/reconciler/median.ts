/** Median of a non-empty list; the mean of the middle two for an even count. */
export function median (values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const at = (i: number): number => sorted[i] as number
  return sorted.length % 2 === 1 ? at(mid) : (at(mid - 1) + at(mid)) / 2
}

/** How far `value` lies from `reference`, in percent of the reference. */
export function deviationPct (value: number, reference: number): number {
  return (value - reference) / reference * 100
}
