import { Type, type Static } from 'typebox'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

/** The outcome of one cut request, as auditors read it. */
export const AuditOutcomeSchema = Type.Union([Type.Literal('succeeded'), Type.Literal('rejected'), Type.Literal('failed'), Type.Literal('unknown')])
export type AuditOutcome = Static<typeof AuditOutcomeSchema>

export const AuditActorSchema = Type.Object({
  sub: Nullable(Type.String({ description: 'token subject; null when the request was not authenticated' })),
  clientId: Nullable(Type.String({ description: 'from the token\'s `azp` or `client_id`' })),
  ip: Type.String(),
  userAgent: Nullable(Type.String({ maxLength: 512 }))
})

/** The cut as the service understood it after validation (null when the body was invalid). */
export const AuditedCutSchema = Type.Object({
  startMs: Nullable(Type.Integer()),
  endMs: Nullable(Type.Integer()),
  startTime: Nullable(Type.String({ description: 'UTC, YYYY-MM-DDTHH:mm:ss.sssZ' })),
  endTime: Nullable(Type.String({ description: 'UTC, YYYY-MM-DDTHH:mm:ss.sssZ' }))
})
export type AuditedCut = Static<typeof AuditedCutSchema>

/**
 * How a person reconciled an entry whose outcome was `unknown`, after checking the platform: a
 * chained record of its own, appended after the entry's; the entry's own `outcome` stays `unknown`.
 */
export const AuditResolutionSchema = Type.Object({
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  note: Type.String({ minLength: 1, maxLength: 1000 }),
  videoPublicId: Nullable(Type.String({ maxLength: 255 })),
  by: Nullable(Type.String({ description: 'the resolving token\'s subject' })),
  time: Type.String({ description: 'when it was recorded, ISO 8601 UTC' })
}, { additionalProperties: false })
export type AuditResolution = Static<typeof AuditResolutionSchema>

export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  requestId: Type.String(),
  time: Type.String({ description: 'when the request arrived, ISO 8601 UTC' }),
  actor: AuditActorSchema,
  action: Type.Literal('live-video.stop-and-cut'),
  projectId: Nullable(Type.String()),
  videoId: Nullable(Type.String()),
  request: Type.Object({
    cut: Nullable(AuditedCutSchema),
    visibility: Nullable(Type.String()),
    idempotencyKey: Nullable(Type.String({ maxLength: 255 }))
  }),
  outcome: AuditOutcomeSchema,
  status: Nullable(Type.Integer({ description: 'HTTP status returned to the client; null while the platform call is open (or its process died)' })),
  reason: Nullable(Type.String({ description: 'machine-readable, e.g. validation, upstream_timeout; null on success' })),
  upstream: Nullable(Type.Object({
    attempts: Type.Integer(),
    statuses: Type.Array(Type.Integer()),
    latencyMs: Nullable(Type.Number())
  })),
  videoPublicId: Nullable(Type.String()),
  durationMs: Nullable(Type.Number()),
  resolution: Type.Optional({ ...AuditResolutionSchema, description: 'present once an `unknown` outcome was resolved; read from a record of its own, never part of the entry\'s' })
}, { $id: 'AuditEntry', title: 'AuditEntry' })
export type AuditEntry = Static<typeof AuditEntrySchema>
