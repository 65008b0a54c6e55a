import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Quote } from '../../src/domain/rate.js'
import { QuoteSchema } from '../../src/domain/rate.js'
import type { FetchContext, Source } from '../../src/sources/source.js'
import { assertQuotes, assertRejects, expectedOf, relDiff } from './expected.js'
import type { Asserts, ExpectedFixture } from './expected.js'
import { fixtureText, serve } from './fixture-server.js'

/** Quotes keyed by their base currency. */
export const byBase = (quotes: Quote[]): Map<string, Quote> => new Map(quotes.map((q) => [q.base, q]))

/**
 * Rewrites the entries of `text` matched by the global `entryRe` that contain `key` (an entry edited
 * to '' is removed). Throws when no entry contains `key`, so a fixture change cannot void a test.
 */
export function editEntry (text: string, entryRe: RegExp, key: string, edit: (entry: string) => string): string {
  if (!entryRe.global) throw new Error(`${String(entryRe)} must be global`)
  let hit = false
  const out = text.replace(entryRe, (entry) => {
    if (!entry.includes(key)) return entry
    hit = true
    return edit(entry)
  })
  if (!hit) throw new Error(`no entry with ${key} in the fixture`)
  return out
}

/** The text of the first <name> element. */
export function field (entry: string, name: string): string {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(entry)
  if (m?.[1] === undefined) throw new Error(`no ${name}`)
  return m[1]
}

/** Replaces the text of the first <name> element. */
export const setField = (entry: string, name: string, value: string): string =>
  entry.replace(new RegExp(`<${name}>[^<]*</${name}>`), `<${name}>${value}</${name}>`)

/**
 * Same currencies, same values (to float noise, 1e-12), and unless `date` is false the same value
 * dates.
 */
export function assertSame (t: Asserts, found: Quote[], wanted: Quote[], { date = true }: { date?: boolean } = {}): void {
  const got = byBase(found)
  t.equal(got.size, wanted.length, 'same number of quotes')
  for (const q of wanted) {
    const g = got.get(q.base)
    t.ok(g !== undefined && relDiff(g.inverse, q.inverse) < 1e-12 && (!date || g.date === q.date), `${q.base} unchanged`)
  }
}

/** Each of `codes` has the same inverse in `got` as in `was` (to 1e-12). */
export function assertUnchanged (t: Asserts, got: Map<string, Quote>, was: Map<string, Quote>, codes: string[]): void {
  for (const code of codes) t.ok(relDiff(got.get(code)?.inverse ?? NaN, was.get(code)?.inverse ?? 0) < 1e-12, `${code} unchanged`)
}

export interface FixtureChecks {
  /** How many fixtures expected.json lists for the source: exactly, or at least. */
  count: number | { atLeast: number }
  /** The typed error every 'failure' fixture raises; without it every fixture must parse. */
  failure?: { code: string, message?: RegExp }
  /** Also check the quotes are schema-valid, daily, and one per currency. */
  validDaily?: boolean
  /** The fixture's text encoding (UTF-8 by default). */
  encoding?: (file: string) => 'utf-8' | 'windows-1251'
  /** The date the parser is told was asked for; without it the parser gets the body alone. */
  asked?: (want: ExpectedFixture) => string | undefined
}

/** Every fixture of `source` parses to its expected units per USD, or fails typed. */
export function checkFixtures (t: Asserts, source: string, parse: (body: string, asked?: string) => Quote[], checks: FixtureChecks): void {
  const all = expectedOf(source)
  const { count, failure, asked } = checks
  if (typeof count === 'number') t.equal(all.length, count, `${count} ${source} fixtures`)
  else t.ok(all.length >= count.atLeast, `at least ${count.atLeast} ${source} fixtures`)
  for (const want of all) {
    const body = fixtureText(want.file, checks.encoding?.(want.file))
    if (want.kind === 'failure' && failure !== undefined) {
      assertRejects(t, () => parse(body), failure.code, failure.message)
      continue
    }
    const quotes = asked === undefined ? parse(body) : parse(body, asked(want))
    if (checks.validDaily === true) {
      t.ok(quotes.every((q) => QuoteSchema.safeParse(q).success && q.cadence === 'daily'), 'valid daily quotes')
      t.equal(new Set(quotes.map((q) => q.base)).size, quotes.length, 'one quote per currency')
    }
    assertQuotes(t, quotes, want)
  }
}

/** What a fixture server saw of one request. */
export interface Seen { url?: string, ua?: string, inm?: string, ims?: string }

export const seenOf = (req: IncomingMessage): Seen =>
  ({ url: req.url, ua: req.headers['user-agent'], inm: req.headers['if-none-match'], ims: req.headers['if-modified-since'] })

/** Answers 304 to a request revalidating `etag`, else the fixture at `path` with that ETag. */
export function serveWithEtag (req: IncomingMessage, res: ServerResponse, path: string, contentType: string, etag: string, headers: Record<string, string> = {}): void {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag }).end()
    return
  }
  serve(res, path, contentType, 200, { etag, ...headers })
}

type SameAsserts = Asserts & { same: (found: unknown, wanted: unknown, message: string) => unknown }

/**
 * Fetches again with the same context: the next request the server sees carries `revalidation`
 * (e.g. `{ inm: '"v1"' }`), and the 304 gives back `first`.
 */
export async function assertRevalidates (t: SameAsserts, source: Source, ctx: FetchContext, first: Quote[], seen: Seen[], revalidation: Partial<Seen>): Promise<void> {
  const next = seen.length
  const second = await source.fetchQuotes(ctx)
  for (const [name, value] of Object.entries(revalidation)) t.equal(seen[next]?.[name as keyof Seen], value, `revalidates with ${name} ${value}`)
  t.same(second, first, 'a 304 reuses the cached body')
}
