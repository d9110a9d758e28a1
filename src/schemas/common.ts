import { Type, type Static } from 'typebox'
import { PROBLEM_TYPE_BASE } from '../problems/problem-types.ts'

/** Project and video ids: 1–64 of A-Z a-z 0-9 _ -, the first alphanumeric. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', examples: ['proj_42'] })

/** RFC 3339 with an explicit offset (`Z` or `±hh:mm`); the format check rejects impossible dates. */
export const DateTimeWithOffset = Type.String({
  format: 'date-time',
  pattern: '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$',
  examples: ['2024-01-01T12:00:00Z']
})

/** RFC 9457 problem details, as every error of this service is answered. */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: `${PROBLEM_TYPE_BASE}<code>; the code is also the audit reason`, examples: [`${PROBLEM_TYPE_BASE}validation`] }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  requestId: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({
    field: Type.String({ description: 'JSON pointer into the part named by `in`', examples: ['/startMs'] }),
    in: Type.Union([Type.Literal('body'), Type.Literal('path'), Type.Literal('header'), Type.Literal('query')]),
    message: Type.String()
  }))),
  upstreamErrors: Type.Optional(Type.Array(Type.Unknown(), { description: 'what the platform said, on 422' }))
}, { $id: 'Problem', title: 'Problem' })

export type Problem = Static<typeof ProblemSchema>

/** Response schemas for the given error statuses, all problem+json. */
export function problemResponses (...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: 'Problem details (RFC 9457)',
    content: { 'application/problem+json': { schema: Type.Ref('Problem') } }
  }]))
}
