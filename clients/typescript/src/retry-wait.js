/**
 * How long to wait before the next attempt: the server's `Retry-After` when it sent one,
 * else exponential backoff with full jitter. Mirrors the service's own policy towards the platform.
 */

/** @typedef {{ baseMs: number, maxMs: number }} Backoff */

/** @type {Backoff} */
export const defaultBackoff = { baseMs: 250, maxMs: 4000 }

/**
 * A `Retry-After` header (delay-seconds or an HTTP date) in milliseconds from `nowMs`; null
 * when absent or unreadable.
 * @param {string | null} header
 * @param {number} nowMs
 * @returns {number | null}
 */
export function retryAfterMs (header, nowMs) {
  if (header === null) return null
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs)
}

/**
 * The wait before retry number `retry` (1 for the first): uniform in [base, min(max, base·2^(retry-1))].
 * @param {number} retry
 * @param {Backoff} backoff
 * @param {() => number} random uniform in [0, 1)
 */
export function jitteredBackoffMs (retry, backoff, random) {
  const ceiling = Math.max(backoff.baseMs, Math.min(backoff.maxMs, backoff.baseMs * 2 ** (retry - 1)))
  return backoff.baseMs + Math.floor(random() * (ceiling - backoff.baseMs + 1))
}
