import type { Row } from './report.js'

export async function redisFailures (_options: { quick: boolean }): Promise<Row[]> {
  return []
}
