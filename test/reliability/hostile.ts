import type { Row } from './report.js'

export async function hostileClients (_options: { quick: boolean }): Promise<Row[]> {
  return []
}
