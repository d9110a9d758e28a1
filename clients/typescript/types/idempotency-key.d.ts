/**
 * A new random Idempotency-Key (a UUID v4). Browsers have crypto.randomUUID only in secure
 * contexts and React Native only with a polyfill, so getRandomValues is the fallback.
 * @returns {string}
 */
export function newIdempotencyKey(): string;
