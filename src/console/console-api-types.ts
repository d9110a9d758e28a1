import { writeFileSync } from 'node:fs'
import openapiTS, { astToString } from 'openapi-typescript'

/** The console script's types, generated from the committed OpenAPI document. */
export const OPENAPI_YAML = new URL('../../openapi.yaml', import.meta.url)
export const CONSOLE_API_TYPES = new URL('./api-types.d.ts', import.meta.url)

const HEADER = '// Generated from openapi.yaml by `npm run console:types`: do not edit. The console\'s JSDoc types read it.\n'

export async function consoleApiTypes (): Promise<string> {
  return HEADER + astToString(await openapiTS(OPENAPI_YAML, { silent: true }))
}

// `npm run console:types` rewrites the committed file; a test fails when it is stale.
if (import.meta.main) writeFileSync(CONSOLE_API_TYPES, await consoleApiTypes())
