import type { Row } from './report.js'

export async function soak (_options: { quick: boolean }): Promise<Row[]> {
  return []
}
