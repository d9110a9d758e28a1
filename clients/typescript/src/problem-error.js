/** @import { components } from '../types/openapi.js' */

/** @typedef {components['schemas']['Problem']} Problem */

const PROBLEM_TYPE_PREFIX = 'urn:livecut:problem:'

/**
 * An answer of the service that is not a success, as the RFC 9457 problem it carries.
 * `code` is the part of `type` after `urn:livecut:problem:` (`validation`, `upstream_timeout`…),
 * null when the answer did not come from the service (a proxy's HTML page, say).
 */
export class LivecutProblemError extends Error {
  /**
   * @param {number} status
   * @param {Problem} problem
   * @param {string | null} idempotencyKey the key of the cut that got this answer, null for other calls
   */
  constructor (status, problem, idempotencyKey = null) {
    super(`${status} ${problem.title}: ${problem.detail}`)
    this.name = 'LivecutProblemError'
    this.status = status
    this.code = problem.type.startsWith(PROBLEM_TYPE_PREFIX) ? problem.type.slice(PROBLEM_TYPE_PREFIX.length) : null
    this.problem = problem
    this.idempotencyKey = idempotencyKey
  }
}

/**
 * The deadline passed before the service answered: the cut may or may not have happened.
 * Calling `stopAndCut` again with the same `idempotencyKey` is safe: it replays the first answer.
 */
export class LivecutDeadlineError extends Error {
  /**
   * @param {string} idempotencyKey
   * @param {number} attempts requests sent, the one cut short included
   * @param {unknown} cause the last failure (a network error, or the deadline itself)
   */
  constructor (idempotencyKey, attempts, cause) {
    super(`No answer from livecut-bff before the deadline (${attempts} attempt${attempts === 1 ? '' : 's'}); the outcome is unknown, retry with the same idempotencyKey`)
    this.name = 'LivecutDeadlineError'
    this.idempotencyKey = idempotencyKey
    this.attempts = attempts
    // Set here rather than through the constructor option, which older engines ignore.
    this.cause = cause
  }
}

/**
 * The error for a non-2xx answer. A body that is not a problem document (a proxy's page, an
 * empty body) becomes one, so callers handle one shape.
 * @param {Response} response
 * @param {unknown} body the answer's body, parsed when it was JSON
 * @param {string | null} [idempotencyKey]
 */
export function problemErrorFrom (response, body, idempotencyKey = null) {
  const problem = isProblem(body)
    ? body
    : {
        type: 'about:blank',
        title: response.statusText === '' ? `HTTP ${response.status}` : response.statusText,
        status: response.status,
        detail: 'The answer was not a problem document of livecut-bff.',
        requestId: response.headers.get('x-request-id') ?? ''
      }
  return new LivecutProblemError(response.status, problem, idempotencyKey)
}

/**
 * @param {unknown} body
 * @returns {body is Problem}
 */
function isProblem (body) {
  if (typeof body !== 'object' || body === null) return false
  const { type, title, status } = /** @type {Record<string, unknown>} */ (body)
  return typeof type === 'string' && typeof title === 'string' && typeof status === 'number'
}
