import createError from '@fastify/error'

/** The message's detail, and optionally the error that caused it. */
type Detail = [detail: string, options?: { cause: unknown }]

// Errors of the audit trail, as values with codes. The status says what a caller of the store
// did: 400 for a bad query (the review API passes it through), 500 for a broken invariant.

export const AuditInvalidCursorError = createError<'AUDIT_INVALID_CURSOR', 400, Detail>(
  'AUDIT_INVALID_CURSOR', 'invalid audit cursor: %s', 400)

export const AuditInvalidFilterError = createError<'AUDIT_INVALID_FILTER', 400, Detail>(
  'AUDIT_INVALID_FILTER', 'invalid audit filter: %s', 400)

/** The entry itself cannot be recorded (missing id, unparseable time, intent not `unknown`…). */
export const AuditInvalidEntryError = createError<'AUDIT_INVALID_ENTRY', 500, Detail>(
  'AUDIT_INVALID_ENTRY', 'audit entry rejected: %s', 500)

/** A second intent, a second final record, or an intent after the final one. */
export const AuditDuplicateRecordError = createError<'AUDIT_DUPLICATE_RECORD', 500, Detail>(
  'AUDIT_DUPLICATE_RECORD', 'audit record rejected: %s', 500)

/** The closing record does not belong to its intent (other project or time). */
export const AuditRecordMismatchError = createError<'AUDIT_RECORD_MISMATCH', 500, Detail>(
  'AUDIT_RECORD_MISMATCH', 'audit record rejected: %s', 500)

export const AuditStoreUrlError = createError<'AUDIT_STORE_URL', 500, Detail>(
  'AUDIT_STORE_URL', 'audit store URL: %s', 500)

/** Opening the store failed: missing file or schema, newer schema, unreachable database. */
export const AuditStoreOpenError = createError<'AUDIT_STORE_OPEN', 500, Detail>(
  'AUDIT_STORE_OPEN', 'audit store cannot be opened: %s', 500)

/** The store cannot take writes (opened read-only, server in recovery, no INSERT privilege). */
export const AuditStoreNotWritableError = createError<'AUDIT_STORE_NOT_WRITABLE', 503, Detail>(
  'AUDIT_STORE_NOT_WRITABLE', 'audit store cannot take writes: %s', 503)

/** The store did not answer a read (unreachable, timed out, connection lost). */
export const AuditStoreUnavailableError = createError<'AUDIT_STORE_UNAVAILABLE', 503, Detail>(
  'AUDIT_STORE_UNAVAILABLE', 'audit store unavailable: %s', 503)

/** A resolution names an entry that does not exist or lies outside the caller's projects. */
export const AuditEntryNotFoundError = createError<'AUDIT_ENTRY_NOT_FOUND', 404, Detail>(
  'AUDIT_ENTRY_NOT_FOUND', 'audit entry not found: %s', 404)

/** A second resolution of one entry (the store's unique index refuses it even under a race). */
export const AuditEntryResolvedError = createError<'AUDIT_ENTRY_RESOLVED', 409, Detail>(
  'AUDIT_ENTRY_RESOLVED', 'audit entry already resolved: %s', 409)

/** Only an `unknown` outcome can be resolved. */
export const AuditOutcomeKnownError = createError<'AUDIT_OUTCOME_KNOWN', 422, Detail>(
  'AUDIT_OUTCOME_KNOWN', 'audit entry outcome is known: %s', 422)
