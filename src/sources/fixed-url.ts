import type { Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'
import type { ParseOptions } from './checks.js'
import { fetchText } from './http.js'
import type { Source } from './source.js'

/** A source that GETs one fixed URL and parses its body against the poll's clock. */
export function createFixedUrlSource (id: SourceId, url: string, parse: (text: string, opts: ParseOptions) => Quote[]): Source {
  return {
    id,
    async fetchQuotes (ctx) {
      const { text } = await fetchText(id, url, ctx)
      return parse(text, { now: ctx.now })
    }
  }
}
