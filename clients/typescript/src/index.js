/**
 * The typed client of livecut-bff for web and mobile frontends (browsers, React Native,
 * Node 18+): the platform's `fetch`, types generated from the service's openapi.yaml.
 */
import createClient from 'openapi-fetch'
import { Deadline } from './deadline.js'
import { newIdempotencyKey } from './idempotency-key.js'
import { dataOf, jsonGetter } from './json-get.js'
import { LivecutDeadlineError, LivecutProblemError, problemErrorFrom } from './problem-error.js'
import { defaultBackoff, jitteredBackoffMs, retryAfterMs } from './retry-wait.js'

/** @import { components, operations, paths } from '../types/openapi.js' */
/** @import { Backoff } from './retry-wait.js' */
/** @import { Client } from 'openapi-fetch' */

export { LivecutDeadlineError, LivecutProblemError }

/** @typedef {components['schemas']['Problem']} Problem */
/** @typedef {components['schemas']['AuditEntry']} AuditEntry */
/** @typedef {operations['stopAndCutLiveVideo']['requestBody']['content']['application/json']} CutBody */
/** @typedef {operations['stopAndCutLiveVideo']['responses'][200]['content']['application/json']} CutResult */
/** @typedef {NonNullable<operations['listAuditEvents']['parameters']['query']>} AuditEventsQuery `limit` defaults to 50 on the service */
/** @typedef {operations['listAuditEvents']['responses'][200]['content']['application/json']} AuditEventsPage */
/** @typedef {NonNullable<operations['verifyAuditTrail']['parameters']['query']>} AuditVerifyQuery `mode` defaults to `full` on the service */
/** @typedef {operations['verifyAuditTrail']['responses'][200]['content']['application/json']} AuditVerification */
/** @typedef {operations['resolveAuditEvent']['requestBody']['content']['application/json']} ResolutionBody */
/** @typedef {components['schemas']['AuditCheckpoint']} AuditCheckpoint */
/** @typedef {NonNullable<operations['listAuditCheckpoints']['parameters']['query']>} AuditCheckpointsQuery `limit` defaults to 50 on the service */
/** @typedef {operations['listAuditCheckpoints']['responses'][200]['content']['application/json']} AuditCheckpointsPage */
/** @typedef {operations['getAuditPublicKey']['responses'][200]['content']['application/json']} AuditPublicKey */

/**
 * @typedef {object} LivecutClientOptions
 * @property {string} baseUrl origin of the service, e.g. `https://livecut.internal`
 * @property {string | (() => string | Promise<string>)} token the bearer token, or a function
 *   returning the current one: it is called before every request, retries included
 * @property {typeof globalThis.fetch} [fetch] defaults to the platform's `fetch`
 * @property {Partial<Backoff>} [retry] bounds of the backoff between cut attempts (250 ms, 4 s)
 */

/**
 * @typedef {object} RetryEvent
 * @property {number} attempt the attempt that just failed (1 for the first)
 * @property {number} waitMs how long until the next one
 * @property {LivecutProblemError | Error} error why: a 503 (or an in-flight key), or a network failure
 */

/**
 * @typedef {object} StopAndCutOptions
 * @property {string} [idempotencyKey] one key per logical cut; generated when absent
 * @property {number} [deadlineMs] all attempts and waits together (default 30 000)
 * @property {AbortSignal} [signal] aborts the request and any wait; rejects with its reason
 * @property {(event: RetryEvent) => void} [onRetry] called before each wait, e.g. to show "retrying…"
 */

/** @typedef {{ signal?: AbortSignal }} RequestOptions */

const DEFAULT_DEADLINE_MS = 30_000

/**
 * @param {LivecutClientOptions} options
 */
export function createLivecutClient ({ baseUrl, token, fetch, retry }) {
  /** @type {Backoff} */
  const backoff = { ...defaultBackoff, ...retry }
  // Looked up at call time: a fetch polyfill installed after this module loaded still counts.
  /** @type {typeof globalThis.fetch} */
  const platformFetch = (input, init) => globalThis.fetch(input, init)
  /** @type {Client<paths>} */
  const api = createClient({ baseUrl, fetch: fetch ?? platformFetch })

  /** @returns {Promise<string>} */
  async function authorization () {
    return `Bearer ${typeof token === 'function' ? await token() : token}`
  }

  const get = jsonGetter(api, authorization)

  return {
    /**
     * Stops the live video and cuts it (or the given range) into a VOD. One Idempotency-Key
     * covers every attempt, so a retry after a 503 or a lost answer never cuts twice.
     * @param {string} projectId
     * @param {string} videoId
     * @param {CutBody} body `{}` cuts the whole stream
     * @param {StopAndCutOptions} [options]
     * @returns {Promise<CutResult>}
     */
    async stopAndCut (projectId, videoId, body, options = {}) {
      const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey()
      const deadline = new Deadline(options.deadlineMs ?? DEFAULT_DEADLINE_MS, options.signal)
      try {
        for (let attempt = 1; ; attempt += 1) {
          if (deadline.signal.aborted) throw deadline.expired ? new LivecutDeadlineError(idempotencyKey, attempt - 1, null) : deadline.signal.reason
          const headers = { authorization: await authorization() }
          /** @type {LivecutProblemError | Error} */
          let failure
          let waitMs = jitteredBackoffMs(attempt, backoff, Math.random)
          try {
            const { data, error, response } = await api.POST('/v1/projects/{projectId}/live-videos/{videoId}/cut', {
              params: { path: { projectId, videoId }, header: { 'idempotency-key': idempotencyKey } },
              body,
              headers,
              signal: deadline.signal
            })
            if (response.ok) return /** @type {CutResult} */ (data)
            const problem = problemErrorFrom(response, error, idempotencyKey)
            if (!isRetryableProblem(problem)) throw problem
            failure = problem
            waitMs = retryAfterMs(response.headers.get('retry-after'), Date.now()) ?? waitMs
          } catch (error) {
            if (error instanceof LivecutProblemError) throw error
            if (deadline.signal.aborted) throw deadline.expired ? new LivecutDeadlineError(idempotencyKey, attempt, error) : deadline.signal.reason
            // fetch rejects with a TypeError when the network fails (browsers, React Native, Node).
            if (!(error instanceof TypeError)) throw error
            failure = error
          }
          // No wait that ends past the deadline: give the caller the last answer now.
          if (waitMs >= deadline.remainingMs()) {
            throw failure instanceof LivecutProblemError ? failure : new LivecutDeadlineError(idempotencyKey, attempt, failure)
          }
          options.onRetry?.({ attempt, waitMs, error: failure })
          await deadline.sleep(waitMs).catch((reason) => {
            throw deadline.expired ? new LivecutDeadlineError(idempotencyKey, attempt, failure) : reason
          })
        }
      } finally {
        deadline.clear()
      }
    },

    /**
     * Audit entries the token may read, newest first (scope `audit:read`).
     * @param {AuditEventsQuery} [query] filters; pass the page's `nextCursor` as `cursor` for the next page
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEventsPage>}
     */
    async listAuditEvents (query = {}, options = {}) {
      return await get('/v1/audit/events', { query }, options)
    },

    /**
     * One audit entry by id (the `auditId` of a cut's answer).
     * @param {string} id
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEntry>}
     */
    async getAuditEvent (id, options = {}) {
      return await get('/v1/audit/events/{id}', { path: { id } }, options)
    },

    /**
     * Verifies the hash chain: the whole trail, or with `{ mode: 'incremental' }` only what follows
     * the newest checkpoint this service instance verified in full (the answer's `anchor`).
     * @param {AuditVerifyQuery} [query]
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditVerification>}
     */
    async verifyAuditTrail (query = {}, options = {}) {
      return await get('/v1/audit/verify', { query }, options)
    },

    /**
     * Signed checkpoints of the chain's head, newest first: keep them elsewhere, and a trail cut
     * off or rewritten before one fails verification against it.
     * @param {AuditCheckpointsQuery} [query] pass the page's `nextCursor` as `cursor` for the next page
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditCheckpointsPage>}
     */
    async listAuditCheckpoints (query = {}, options = {}) {
      return await get('/v1/audit/checkpoints', { query }, options)
    },

    /**
     * The public key that verifies the checkpoints, as a JWK (`kid` is their `keyId`).
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditPublicKey>}
     */
    async getAuditPublicKey (options = {}) {
      return await get('/v1/audit/public-key', {}, options)
    },

    /**
     * Records what became of a cut whose outcome is `unknown`, as a person who checked the
     * platform found it (scope `audit:resolve`). Sent once, never retried: a resolution is
     * that person's decision, and a 409 `already_resolved` tells them someone else made it.
     * @param {string} id the entry's id
     * @param {ResolutionBody} body
     * @param {RequestOptions} [options]
     * @returns {Promise<AuditEntry>} the entry with its `resolution`; its own `outcome` stays `unknown`
     */
    async resolveAuditEvent (id, body, options = {}) {
      return await dataOf(api.POST('/v1/audit/events/{id}/resolution', {
        params: { path: { id } },
        body,
        headers: { authorization: await authorization() },
        signal: options.signal
      }))
    }
  }
}

/** @typedef {ReturnType<typeof createLivecutClient>} LivecutClient */

/**
 * Answers that mean nothing was done yet, so the same key may try again: any 503 (the
 * platform, the audit trail or shared state unavailable), and the key's own first request
 * still in flight (after a lost answer), which the retry then replays.
 * @param {LivecutProblemError} error
 */
function isRetryableProblem (error) {
  return error.status === 503 || (error.status === 409 && error.code === 'idempotency_in_flight')
}
