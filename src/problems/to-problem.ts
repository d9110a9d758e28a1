import type { FastifyError } from 'fastify'
import { ProblemError, type FieldError } from './problem-error.ts'

type ValidationContext = 'body' | 'params' | 'headers' | 'querystring'
const PART_NAME: Record<ValidationContext, FieldError['in']> = { body: 'body', params: 'path', headers: 'header', querystring: 'query' }

/** Ajv's errors, one per offending field, named the way a client sent it. */
function fieldErrors (error: FastifyError): FieldError[] {
  const part = PART_NAME[(error.validationContext ?? 'body') as ValidationContext] ?? 'body'
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as Record<string, unknown>
    if (typeof params.additionalProperty === 'string') {
      return { field: `${issue.instancePath}/${params.additionalProperty}`, in: part, message: 'is not a known field' }
    }
    if (typeof params.missingProperty === 'string') {
      return { field: `${issue.instancePath}/${params.missingProperty}`, in: part, message: 'is required' }
    }
    return { field: issue.instancePath === '' ? '/' : issue.instancePath, in: part, message: issue.message ?? 'is invalid' }
  })
}

/** Turns anything thrown during a request into the problem the client gets. */
export function toProblem (error: FastifyError | ProblemError): ProblemError {
  if (error instanceof ProblemError) return error
  if (error.validation !== undefined) {
    return new ProblemError('validation', 'The request does not match the schema; see errors.', { errors: fieldErrors(error) })
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError('payload_too_large', 'The body is larger than this route accepts.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError('unsupported_media_type', 'Send the body as application/json, or no body at all.')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProblemError('validation', 'Content-Length does not match the body.')
    // The audit database dropped, stopped answering or cannot write: a fault of a dependency.
    case 'AUDIT_STORE_UNAVAILABLE':
    case 'AUDIT_STORE_NOT_WRITABLE':
      return new ProblemError('audit_unavailable', 'The audit trail cannot be reached right now; try again shortly.', { retryAfterSeconds: 5 })
  }
  // Coded 400s (a bad audit cursor or filter) say in their message what was wrong.
  if (error.statusCode === 400) return new ProblemError('validation', error.message)
  if (error.statusCode === 404) return new ProblemError('not_found', 'No such resource.')
  return new ProblemError('internal', 'The service failed to handle the request; it has been logged.')
}
