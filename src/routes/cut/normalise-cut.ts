import type { AuditedCut } from '../../audit/audit-entry.ts'
import type { CutBody } from '../../schemas/cut.ts'
import type { StopAndCutBody } from '../../upstream/stop-and-cut.ts'
import { ProblemError, type FieldError } from '../../problems/problem-error.ts'

/** How far in the future `endTime` may lie: clocks differ, and a stream's end is "now". */
export const END_TIME_LEEWAY_MS = 60_000

export interface NormalisedCut {
  cut: AuditedCut
  visibility: string
  upstreamBody: StopAndCutBody
}

const bodyError = (field: string, message: string): FieldError => ({ field, in: 'body', message })

/**
 * The rules that span fields (the schema has checked each field on its own), and the
 * translation into the platform's body. Throws a validation problem naming every broken rule.
 */
export function normaliseCut (body: CutBody, nowMs: number, visibility: { options: Record<string, number>, default: string }): NormalisedCut {
  const errors: FieldError[] = []
  const hasMs = body.startMs !== undefined || body.endMs !== undefined
  const hasTime = body.startTime !== undefined || body.endTime !== undefined

  if (body.startMs !== undefined && body.endMs === undefined) errors.push(bodyError('/endMs', 'is required with startMs'))
  if (body.endMs !== undefined && body.startMs === undefined) errors.push(bodyError('/startMs', 'is required with endMs'))
  if (body.startMs !== undefined && body.endMs !== undefined && body.startMs >= body.endMs) {
    errors.push(bodyError('/endMs', 'must be greater than startMs'))
  }

  if (body.startTime !== undefined && body.endTime === undefined) errors.push(bodyError('/endTime', 'is required with startTime'))
  if (body.endTime !== undefined && body.startTime === undefined) errors.push(bodyError('/startTime', 'is required with endTime'))
  const start = body.startTime === undefined ? undefined : Date.parse(body.startTime)
  const end = body.endTime === undefined ? undefined : Date.parse(body.endTime)
  if (start !== undefined && end !== undefined && start >= end) errors.push(bodyError('/endTime', 'must be later than startTime'))
  if (end !== undefined && end > nowMs + END_TIME_LEEWAY_MS) errors.push(bodyError('/endTime', 'must not be more than 60 s in the future'))

  if (hasMs && hasTime) {
    errors.push(bodyError(body.startTime !== undefined ? '/startTime' : '/endTime', 'cannot be combined with startMs/endMs: give one range'))
  }
  if (errors.length > 0) throw new ProblemError('validation', 'The cut range is invalid; see errors.', { errors })

  const chosen = body.visibility ?? visibility.default
  const cut: AuditedCut = {
    startMs: body.startMs ?? null,
    endMs: body.endMs ?? null,
    startTime: start === undefined ? null : new Date(start).toISOString(),
    endTime: end === undefined ? null : new Date(end).toISOString()
  }
  return {
    cut,
    visibility: chosen,
    upstreamBody: {
      fromMilisecond: cut.startMs,
      toMilisecond: cut.endMs,
      dateTimeFrom: cut.startTime,
      dateTimeTo: cut.endTime,
      videoVisibilityOptionId: visibility.options[chosen] as number
    }
  }
}
