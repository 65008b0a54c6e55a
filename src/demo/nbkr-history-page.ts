import { addDays, toDmy, validIso } from '../domain/dates.js'

/** The range a request for NBKR's history page of a currency asks for, from its form fields. */
export function nbkrHistoryRange (url: string): { from: string, to: string } | undefined {
  const m = /^\/index1\.jsp\?(.*)$/.exec(url)
  if (m === null) return undefined
  const q = new URLSearchParams(m[1])
  if (q.get('item') !== '1562') return undefined
  const from = validIso(`${q.get('beg_year') ?? ''}-${q.get('beg_month') ?? ''}-${q.get('beg_day') ?? ''}`)
  const to = validIso(`${q.get('end_year') ?? ''}-${q.get('end_month') ?? ''}-${q.get('end_day') ?? ''}`)
  return from === undefined || to === undefined || from > to ? undefined : { from, to }
}

/**
 * NBKR's history page of the US dollar for the days `from`..`to` that had a fixing (`published`), newest
 * first as the bank lists them: KGS per dollar with four decimals and a decimal comma, each cell between
 * the comment markers the bank's page carries.
 */
export function nbkrHistoryPage (from: string, to: string, published: (date: string) => boolean, kgsOn: (date: string) => number): Buffer {
  const rows: string[] = []
  for (let d = to; d >= from; d = addDays(d, -1)) {
    if (!published(d)) continue
    rows.push(`<tr><td class="stat-center"><!--date-->${toDmy(d)}<!--date--></td><td class="stat-right"><!--value-->${kgsOn(d).toFixed(4).replace('.', ',')}<!--value--></td></tr>`)
  }
  return Buffer.from(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>National Bank of the Kyrgyz Republic - Official exchange rates</title></head>
<body><h1>Official exchange rates of the som: US Dollar</h1>
<table class="table-stat"><tr><th>Date</th><th>Rate</th></tr>
${rows.join('\n')}
</table></body></html>
`)
}
