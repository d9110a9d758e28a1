import { problemErrorFrom } from './problem-error.js'

/** @import { paths } from '../types/openapi.js' */
/** @import { Client, ClientPathsWithMethod } from 'openapi-fetch' */
/** @import { RequestOptions } from './index.js' */

/** @typedef {ClientPathsWithMethod<Client<paths>, 'get'>} GetPath the service's URLs that answer a GET */
/**
 * @template O
 * @typedef {O extends { responses: { 200: { content: { 'application/json': infer Data } } } } ? Data : never} JsonOf the JSON of an operation's 200 answer
 */

/**
 * @typedef {<P extends GetPath>(path: P, params: paths[P]['get']['parameters'], options: RequestOptions) => Promise<JsonOf<paths[P]['get']>>} JsonGet
 */

/**
 * The data of a successful answer, or the answer's problem thrown.
 * @template T
 * @param {Promise<{ data?: T, error?: unknown, response: Response }>} call
 * @returns {Promise<T>}
 */
export async function dataOf (call) {
  const { data, error, response } = await call
  if (!response.ok) throw problemErrorFrom(response, error)
  return /** @type {T} */ (data)
}

/**
 * The one GET of the client's read calls: the current token, the JSON answer's data or its
 * problem thrown. A call names its path and the parameters openapi.yaml gives that path, so a
 * new query parameter of the service is one more key of `params`.
 * @param {Client<paths>} api
 * @param {() => Promise<string>} authorization the Authorization header's value, read per call
 * @returns {JsonGet}
 */
export function jsonGetter (api, authorization) {
  // openapi-fetch's GET with its parameter types loosened, for get() alone: TypeScript cannot
  // resolve those conditional types for a path that is a type parameter, so get()'s own
  // signature (the same types, per path) checks each call instead.
  const untypedGet = /** @type {(path: string, init: object) => Promise<{ data?: unknown, error?: unknown, response: Response }>} */ (/** @type {unknown} */ (api.GET))

  /**
   * @template {GetPath} P
   * @param {P} path
   * @param {paths[P]['get']['parameters']} params
   * @param {RequestOptions} options
   * @returns {Promise<JsonOf<paths[P]['get']>>}
   */
  return async function get (path, params, { signal }) {
    const data = await dataOf(untypedGet(path, {
      params,
      // Some of these URLs also stream NDJSON or CSV on request: the client wants the JSON.
      headers: { authorization: await authorization(), accept: 'application/json' },
      signal
    }))
    return /** @type {JsonOf<paths[P]['get']>} */ (data)
  }
}
