// The wording of a vote's `reason`, as /v1/rates shows it to people: every phrase is here, the decisions
// that pick one are in select.ts.

/** A signed percentage, e.g. `+2.31 %` or `-3.10 %`. */
function signedPct (pct: number): string {
  return `${pct < 0 ? '-' : '+'}${Math.abs(pct).toFixed(2)} %`
}

export const reasons = {
  unknownSource: 'unknown source',
  mirrorOf: (original: string): string => `mirror of ${original}`,
  lowPrecision: (relErr: number): string => `low precision (±${(relErr * 100).toFixed(2)} %)`,
  behind: (date: string, newest: string): string => `behind: value date ${date}, newest ${newest}`,
  offMedian: (deviationPct: number, voters: number): string => `outlier: ${signedPct(deviationPct)} from the median of ${voters}`,
  offPublished: (deviationPct: number): string => `outlier: ${signedPct(deviationPct)} from the published value`,
  otherDate: (date: string, chosen: string): string => `value date ${date}, not ${chosen}`,
  derivedFallback: 'derived feed: used only as a fallback'
}
