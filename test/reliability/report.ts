/** One line of the reliability table. */
export interface Row {
  scenario: string
  injected: string
  /** How often it was injected. */
  often: string
  /** What the service did. */
  did: string
  /** Anything wrong published, lost or left hanging; `none` when nothing was. */
  wrong: string
  ok: boolean
  /** How long the scenario took. */
  ms: number
}

/** Every row of this run so far, in order: what an interrupted run still prints. */
export const recorded: Row[] = []

/** Adds a finished row to the run's table. */
export function record (row: Row): Row {
  recorded.push(row)
  return row
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim()

/** The rows as a Markdown table, ready to paste into the README. */
export function table (rows: readonly Row[]): string {
  const head = '| scenario | injected | how often | what the service did | wrong published or lost | result |\n|---|---|---|---|---|---|'
  return [head, ...rows.map((r) =>
    `| ${cell(r.scenario)} | ${cell(r.injected)} | ${cell(r.often)} | ${cell(r.did)} | ${cell(r.wrong)} | ${r.ok ? 'pass' : '**FAIL**'} (${(r.ms / 1000).toFixed(0)} s) |`)].join('\n')
}

/** A short list of problems for a table cell: the first few, then how many more. */
export function summarise (problems: Iterable<string>, max = 4): string {
  const all = [...new Set(problems)]
  if (all.length === 0) return 'none'
  return all.slice(0, max).join('; ') + (all.length > max ? `; and ${all.length - max} more` : '')
}

/** With --verbose, every problem of a failed row goes to stderr as well. */
export function details (problems: Iterable<string>): void {
  if (!process.argv.includes('--verbose')) return
  for (const p of new Set(problems)) process.stderr.write(`    - ${p}\n`)
}

/** Writes a progress line to stderr, so stdout carries the table alone. */
export function progress (line: string): void {
  process.stderr.write(`[reliability ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}
