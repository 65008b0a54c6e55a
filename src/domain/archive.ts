import { z } from 'zod'
import { CurrencySchema, IsoDateSchema, SourceIdSchema } from './rate.js'

/** One base in an archive answer: units per USD, and the relative quantisation error of that number. */
export const ArchiveQuoteSchema = z.tuple([z.number().positive().finite(), z.number().nonnegative().finite()])
export type ArchiveQuote = z.infer<typeof ArchiveQuoteSchema>

/**
 * What one source's dated archive has answered. `asked` holds inclusive [from, to] ranges of civil dates
 * whose publication in force is known for good (asking D and being answered with the set dated P means
 * P..D are known); ascending and merged. `quotes` holds, per value date the archive gave, the quotes of
 * that date by base. A date in `asked` with no quotes and no earlier quotes in its range had none (a 404).
 */
export const SourceArchiveSchema = z.object({
  asked: z.array(z.tuple([IsoDateSchema, IsoDateSchema])),
  quotes: z.record(IsoDateSchema, z.record(CurrencySchema, ArchiveQuoteSchema))
})
export type SourceArchive = z.infer<typeof SourceArchiveSchema>

/** Every source's archive progress, by source id: what backfill has asked and been told. */
export const ArchiveSchema = z.record(SourceIdSchema, SourceArchiveSchema)
export type Archive = z.infer<typeof ArchiveSchema>

export const EMPTY_SOURCE_ARCHIVE: SourceArchive = { asked: [], quotes: {} }
