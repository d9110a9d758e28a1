import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaCompiler } from 'fastify'

// ajv-formats ships CommonJS with a default export property.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default

/** An Ajv that reports every error, never drops unknown properties, and knows the standard formats. */
export function ajvWith (options: Options): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, strict: false, ...options })
  addFormats(ajv)
  return ajv
}

/**
 * Bodies are validated as sent: no coercion (`true` is not a number, `"5"` is not an integer)
 * and unknown fields rejected, never dropped. Path, query and headers arrive as strings, so
 * they are coerced to the declared types.
 */
export function createValidatorCompiler (): FastifySchemaCompiler<object> {
  const strict = ajvWith({ coerceTypes: false, useDefaults: false })
  const coercing = ajvWith({ coerceTypes: true, useDefaults: true })
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema)
}
