/**
 * A `Retry-After` header (delay-seconds or an HTTP date) in milliseconds from `nowMs`; null
 * when absent or unreadable.
 * @param {string | null} header
 * @param {number} nowMs
 * @returns {number | null}
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null;
/**
 * The wait before retry number `retry` (1 for the first): uniform in [base, min(max, base·2^(retry-1))].
 * @param {number} retry
 * @param {Backoff} backoff
 * @param {() => number} random uniform in [0, 1)
 */
export function jitteredBackoffMs(retry: number, backoff: Backoff, random: () => number): number;
/**
 * How long to wait before the next attempt: the server's `Retry-After` when it sent one,
 * else exponential backoff with full jitter. Mirrors the service's own policy towards the platform.
 */
/** @typedef {{ baseMs: number, maxMs: number }} Backoff */
/** @type {Backoff} */
export const defaultBackoff: Backoff;
export type Backoff = {
    baseMs: number;
    maxMs: number;
};
