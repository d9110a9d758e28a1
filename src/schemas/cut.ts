import { Type, type Static } from 'typebox'
import { DateTimeWithOffset, Id } from './common.ts'

export const MAX_MS = 2_147_483_647
const Millis = Type.Integer({ minimum: 0, maximum: MAX_MS })

export const CutParamsSchema = Type.Object({
  projectId: Id,
  videoId: Id
})

export const CutHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x20-\\x7E]+$',
    description: 'replays the first final response for 24 h instead of cutting again'
  }))
})

/** The cut body; the names a caller may pick for `visibility` come from VISIBILITY_OPTIONS. */
export function cutBodySchema (visibilityNames: string[]) {
  return Type.Object({
    startMs: Type.Optional({ ...Millis, description: 'start of the range on the video timeline; with endMs' }),
    endMs: Type.Optional({ ...Millis, description: 'end of the range, after startMs' }),
    startTime: Type.Optional({ ...DateTimeWithOffset, description: 'wall-clock start of the range; with endTime' }),
    endTime: Type.Optional({ ...DateTimeWithOffset, description: 'wall-clock end, after startTime, at most 60 s from now' }),
    visibility: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: visibilityNames, description: 'VOD visibility (VISIBILITY_OPTIONS); DEFAULT_VISIBILITY when absent' }))
  }, {
    additionalProperties: false,
    description: 'Either startMs/endMs, or startTime/endTime, or neither (the whole stream).',
    examples: [{ startMs: 600000, endMs: 900000, visibility: 'public' }, { startTime: '2024-01-01T12:00:00Z', endTime: '2024-01-01T12:15:00Z' }, {}]
  })
}

export type CutBody = Static<ReturnType<typeof cutBodySchema>>

export const CutResponseSchema = Type.Object({
  videoPublicId: Type.String({ description: 'the VOD the platform created' }),
  requestId: Type.String(),
  auditId: Type.String({ description: 'id of this request\'s audit entry' })
})
