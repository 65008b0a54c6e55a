/** The fields that tell whether a rate is current. */
export interface Freshness { stale: boolean, cadence: string }

/**
 * At least one rate is fresh: what makes /readyz ready and a heartbeat `live`. A peg is never stale,
 * so it proves nothing while floating rates exist; it counts only where it is all there is.
 */
export function anyCurrent (rates: readonly Freshness[]): boolean {
  const floating = rates.filter((r) => r.cadence !== 'peg')
  return (floating.length > 0 ? floating : rates).some((r) => !r.stale)
}
