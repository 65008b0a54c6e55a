/** Polls `check` every `everyMs` (20 ms) until it returns a value other than undefined or false, for at most `timeoutMs`. */
export async function until<T> (
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, what = 'condition', everyMs = 20 }: { timeoutMs?: number, what?: string, everyMs?: number } = {}
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
