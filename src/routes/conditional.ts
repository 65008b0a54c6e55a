/**
 * Whether an If-None-Match header names `etag` (RFC 9110 section 13.1.2): a list of tags, weak ones
 * compared weakly, or `*`, which any current representation matches.
 */
export function etagMatches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((t) => { const v = t.trim().replace(/^W\//, ''); return v === etag || v === '*' })
}
