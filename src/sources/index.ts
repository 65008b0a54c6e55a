import type { SourceId } from '../domain/sources.js'
import { createCbrXmlDailySource } from './cbr-xml-daily.js'
import { createCbrSource } from './cbr.js'
import { createCbtSource } from './cbt.js'
import { createCbuSource } from './cbu.js'
import { createFawazahmed0Source } from './fawazahmed0.js'
import { createFrankfurterSource } from './frankfurter.js'
import { createNbkSource } from './nbk.js'
import { createNbkrSource } from './nbkr.js'
import { createNbtSource } from './nbt.js'
import { createOpenErApiSource } from './open-er-api.js'
import type { Source, SourceOptions } from './source.js'

const FACTORIES: Record<SourceId, (opts: SourceOptions) => Source> = {
  nbkr: createNbkrSource,
  nbk: createNbkSource,
  cbu: createCbuSource,
  nbt: createNbtSource,
  cbt: createCbtSource,
  cbr: createCbrSource,
  'cbr-xml-daily': createCbrXmlDailySource,
  'open-er-api': createOpenErApiSource,
  fawazahmed0: createFawazahmed0Source,
  frankfurter: createFrankfurterSource
}

/** The enabled adapters, each pointed at its real origin or its FX_SOURCE_<ID>_URL override. */
export function createSources ({ sources, sourceUrls }: { sources: readonly SourceId[], sourceUrls: Partial<Record<SourceId, string>> }): Source[] {
  return sources.map((id) => {
    const origin = sourceUrls[id]
    return FACTORIES[id](origin === undefined ? {} : { origin })
  })
}
