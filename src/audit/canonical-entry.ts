/**
 * RFC 8785 (JCS) text of an audit entry of the known shape (AuditEntrySchema), written directly:
 * the keys in their fixed sorted order (UTF-16 code units, as RFC 8785 sorts them), strings
 * through JSON.stringify, whose escaping is RFC 8785's for well-formed strings, numbers through
 * JSON.stringify (ECMAScript's shortest form, which RFC 8785 adopts). It neither sorts nor
 * recurses over unknown data, which is what the generic `canonicalize` spends its time on.
 *
 * Anything else — a missing or extra key, another type, a non-integer where the schema has an
 * integer, a non-finite number, a lone surrogate, an object that is not plain — is not the known
 * shape: `knownEntryCanonical` returns null and the caller falls back to `canonicalize`, which
 * serialises or refuses it exactly as before. The golden vectors and a property test against
 * `canonicalize` hold the two to the same bytes.
 */

/** Thrown inside, caught below: preallocated, so leaving the fast path costs no stack trace. */
const OTHER_SHAPE = Object.freeze({ otherShape: true })

/** A plain object (no prototype to lend it a toJSON) with this many own keys. */
function plain (value: unknown, keys: number): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.keys(value).length !== keys) throw OTHER_SHAPE
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) throw OTHER_SHAPE
  return value as Record<string, unknown>
}

function string (value: unknown): string {
  if (typeof value !== 'string' || !value.isWellFormed()) throw OTHER_SHAPE
  return JSON.stringify(value)
}

function integer (value: unknown): string {
  if (!Number.isSafeInteger(value)) throw OTHER_SHAPE
  // -0 reads "0", as JSON.stringify writes it.
  return String(value)
}

function number (value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw OTHER_SHAPE
  return JSON.stringify(value)
}

const nullable = (write: (value: unknown) => string) => (value: unknown): string => value === null ? 'null' : write(value)
const nullableString = nullable(string)
const nullableInteger = nullable(integer)
const nullableNumber = nullable(number)

function integers (value: unknown): string {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) throw OTHER_SHAPE
  let text = '['
  // Indexed, not mapped: a hole reads undefined and leaves the fast path.
  for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + integer(value[i])
  return `${text}]`
}

function actor (value: unknown): string {
  const a = plain(value, 4)
  return `{"clientId":${nullableString(a.clientId)},"ip":${string(a.ip)},"sub":${nullableString(a.sub)},"userAgent":${nullableString(a.userAgent)}}`
}

const cut = nullable((value) => {
  const c = plain(value, 4)
  return `{"endMs":${nullableInteger(c.endMs)},"endTime":${nullableString(c.endTime)},"startMs":${nullableInteger(c.startMs)},"startTime":${nullableString(c.startTime)}}`
})

function request (value: unknown): string {
  const r = plain(value, 3)
  return `{"cut":${cut(r.cut)},"idempotencyKey":${nullableString(r.idempotencyKey)},"visibility":${nullableString(r.visibility)}}`
}

const upstream = nullable((value) => {
  const u = plain(value, 3)
  return `{"attempts":${integer(u.attempts)},"latencyMs":${nullableNumber(u.latencyMs)},"statuses":${integers(u.statuses)}}`
})

/** The entry's RFC 8785 text, or null when it is not of the known shape. */
export function knownEntryCanonical (value: unknown): string | null {
  try {
    const e = plain(value, 14)
    return `{"action":${string(e.action)},"actor":${actor(e.actor)},"durationMs":${nullableNumber(e.durationMs)},"id":${string(e.id)}` +
      `,"outcome":${string(e.outcome)},"projectId":${nullableString(e.projectId)},"reason":${nullableString(e.reason)},"request":${request(e.request)}` +
      `,"requestId":${string(e.requestId)},"status":${nullableInteger(e.status)},"time":${string(e.time)},"upstream":${upstream(e.upstream)}` +
      `,"videoId":${nullableString(e.videoId)},"videoPublicId":${nullableString(e.videoPublicId)}}`
  } catch (error) {
    if (error === OTHER_SHAPE) return null
    throw error
  }
}
