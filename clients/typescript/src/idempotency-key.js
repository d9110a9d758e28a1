/**
 * A new random Idempotency-Key (a UUID v4). Browsers have crypto.randomUUID only in secure
 * contexts and React Native only with a polyfill, so getRandomValues is the fallback.
 * @returns {string}
 */
export function newIdempotencyKey () {
  const crypto = globalThis.crypto
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID()
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new TypeError('No crypto.getRandomValues here (React Native needs react-native-get-random-values); pass options.idempotencyKey')
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40 // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80 // RFC 9562 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
