import { Type, type Static } from 'typebox'
import { AuditOutcomeSchema } from '../audit/audit-entry.ts'
import { DateTimeWithOffset, Id } from './common.ts'

export const MAX_AUDIT_PAGE = 500

export const AuditEventsQuerySchema = Type.Object({
  projectId: Type.Optional(Id),
  videoId: Type.Optional(Id),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'actor subject (`sub`)' })),
  outcome: Type.Optional(AuditOutcomeSchema),
  resolved: Type.Optional(Type.Boolean({ description: 'entries whose `unknown` outcome was resolved (true) or not (false)' })),
  since: Type.Optional({ ...DateTimeWithOffset, description: 'entries at or after this time' }),
  until: Type.Optional({ ...DateTimeWithOffset, description: 'entries before this time' }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: '`nextCursor` of the previous page' }))
}, { additionalProperties: false })
export type AuditEventsQuery = Static<typeof AuditEventsQuerySchema>

export const AuditPageSchema = Type.Object({
  items: Type.Array(Type.Ref('AuditEntry')),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

export const AuditVerifySchema = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'records checked along the chain' }),
  firstBad: Type.Optional(Type.Object({
    seq: Type.Integer(),
    entryId: Type.Union([Type.String(), Type.Null()], { description: 'null when the entry is outside the caller\'s projects' }),
    problem: Type.String()
  }))
})

/** What a person who checked the platform says about an entry whose outcome is `unknown`. */
export const AuditResolutionBodySchema = Type.Object({
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  note: Type.String({ minLength: 1, maxLength: 1000, description: 'what was checked, and where' }),
  videoPublicId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'the VOD the cut made, if it succeeded' }))
}, { additionalProperties: false })
export type AuditResolutionBody = Static<typeof AuditResolutionBodySchema>
