import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import type { z } from 'zod'

/** What the zod validator returns: never a boolean nor a promise. */
interface Outcome { error?: Error | FastifySchemaValidationError[], value?: unknown }

/**
 * The zod validator, remembering what it made of each query string and set of path parameters it
 * accepted: clients poll the same few URLs, so zod's transforms and checks run once per URL, not once per
 * request. Refusals and bodies are not remembered. Accepted values are frozen, as requests share them.
 */
export function rememberingValidatorCompiler (max = 256): FastifySchemaCompiler<z.ZodType> {
  return (route) => {
    const validate = validatorCompiler(route)
    if (route.httpPart !== 'querystring' && route.httpPart !== 'params') return validate
    const accepted = new Map<string, Outcome>()
    return (data: unknown) => {
      // JSON keeps a repeated parameter (an array) apart from one holding a comma
      const key = JSON.stringify(data)
      const known = accepted.get(key)
      if (known !== undefined) return known
      const outcome = validate(data) as Outcome
      if (outcome.error !== undefined) return outcome
      freeze(outcome.value)
      if (accepted.size >= max) accepted.delete(accepted.keys().next().value as string)
      accepted.set(key, outcome)
      return outcome
    }
  }
}

function freeze (value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) freeze(v)
}
