// @ts-check
// The review API as the page calls it: the token in memory, every failure as the problem's
// title and detail. Types come from the OpenAPI document: the frontend client's generated
// declarations (clients/typescript/types/openapi.d.ts, npm run client:generate).

/** @typedef {import('../../../clients/typescript/types/openapi').paths} Paths */
/** @typedef {import('../../../clients/typescript/types/openapi').components['schemas']['AuditEntry']} AuditEntry */
/** @typedef {import('../../../clients/typescript/types/openapi').components['schemas']['Problem']} Problem */
/** @typedef {Paths['/v1/audit/events']['get']['responses'][200]['content']['application/json']} AuditPage */
/** @typedef {Paths['/v1/audit/verify']['get']['responses'][200]['content']['application/json']} VerifyAnswer */
/** @typedef {NonNullable<Paths['/v1/audit/events']['get']['parameters']['query']>} EventsQuery */

/** @typedef {Paths['/v1/audit/events/{id}/resolution']['post']['requestBody']['content']['application/json']} ResolutionRequest */

/** @typedef {import('../../../clients/typescript/types/openapi').components['schemas']['AuditCheckpoint']} Checkpoint */
/** @typedef {Paths['/v1/audit/checkpoints']['get']['responses'][200]['content']['application/json']} CheckpointPage */

/** A failed call: what the problem+json body said, or what went wrong on the way. */
export class ApiProblem extends Error {
  /**
   * @param {number} status 0 when the service could not be reached
   * @param {string} title
   * @param {string} detail
   * @param {Array<{ field: string, message: string }>} [errors]
   */
  constructor (status, title, detail, errors = []) {
    super(`${title}: ${detail}`)
    this.status = status
    this.title = title
    this.detail = detail
    this.errors = errors
  }
}

/** @param {Response} response */
async function problemOf (response) {
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      /** @type {Partial<Problem>} */
      const problem = await response.json()
      return new ApiProblem(response.status, problem.title ?? `HTTP ${response.status}`, problem.detail ?? '', problem.errors ?? [])
    } catch {
      // Not JSON after all: described below like any other body.
    }
  }
  return new ApiProblem(response.status, `The service answered ${response.status}`, response.statusText)
}

/**
 * `?name=value` for the parameters that are set.
 * @param {Record<string, string | number | boolean | null | undefined>} params
 */
export function queryString (params) {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value))
  }
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

// Relative to /console/, so the page also works behind a proxy that mounts the service on a prefix.
const API_ROOT = '../'

/**
 * @param {string} path e.g. `v1/audit/events`
 * @param {RequestInit} init
 */
async function call (path, init) {
  let response
  try {
    // Never a cookie: the token travels only in this header.
    response = await fetch(API_ROOT + path, { ...init, credentials: 'omit', cache: 'no-store' })
  } catch (error) {
    throw new ApiProblem(0, 'The service could not be reached', error instanceof Error ? error.message : String(error))
  }
  if (!response.ok) throw await problemOf(response)
  return response
}

/** The review API with one token. @param {string} token */
export function reviewApi (token) {
  /** @param {string} accept */
  const headers = (accept) => ({ authorization: `Bearer ${token}`, accept })
  return {
    /** @param {string} path */
    async get (path) {
      return await (await call(path, { headers: headers('application/json') })).json()
    },
    /** @param {string} path @param {unknown} body */
    async post (path, body) {
      const response = await call(path, {
        method: 'POST',
        headers: { ...headers('application/json'), 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
      return await response.json()
    },
    /** An export of every match, as the API streams it. @param {string} path @param {string} accept */
    async download (path, accept) {
      return await (await call(path, { headers: headers(accept) })).blob()
    }
  }
}

/** @typedef {ReturnType<typeof reviewApi>} ReviewApi */

/** The service's OpenAPI document, which needs no token. */
export async function openApiDocument () {
  return await (await call('openapi.json', { headers: { accept: 'application/json' } })).json()
}
