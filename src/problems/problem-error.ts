import { PROBLEM_TYPES, type ProblemCode } from './problem-types.ts'

export interface FieldError {
  /** JSON pointer into the part named by `in` (for the body: `/startMs`). */
  field: string
  in: 'body' | 'path' | 'header' | 'query'
  message: string
}

export interface ProblemExtras {
  errors?: FieldError[]
  upstreamErrors?: unknown[]
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number
  /** `WWW-Authenticate` challenge parameters, for 401 and 403. */
  challenge?: string
}

/** An error that the error handler renders as RFC 9457 problem+json. */
export class ProblemError extends Error {
  readonly code: ProblemCode
  readonly statusCode: number
  readonly detail: string
  readonly extras: ProblemExtras

  constructor (code: ProblemCode, detail: string, extras: ProblemExtras = {}) {
    super(detail)
    this.name = 'ProblemError'
    this.code = code
    this.statusCode = PROBLEM_TYPES[code].status
    this.detail = detail
    this.extras = extras
  }
}
