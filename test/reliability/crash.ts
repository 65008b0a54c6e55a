import type { Row } from './report.js'

export async function crashes (_options: { quick: boolean }): Promise<Row[]> {
  return []
}
