import { Type, type Static } from 'typebox'
import { AuditOutcomeSchema } from '../audit/audit-entry.ts'
import { DateTimeWithOffset, Id } from './common.ts'

const MAX_AUDIT_PAGE = 500
export const DEFAULT_AUDIT_PAGE = 50

// The paging of every review list. Optional: with a default, a client need not send it (the
// query validator fills it in).
const PageLimit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: DEFAULT_AUDIT_PAGE }))
const PageCursor = Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: '`nextCursor` of the previous page' }))

export const AuditEventsQuerySchema = Type.Object({
  projectId: Type.Optional(Id),
  videoId: Type.Optional(Id),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'actor subject (`sub`)' })),
  outcome: Type.Optional(AuditOutcomeSchema),
  resolved: Type.Optional(Type.Boolean({ description: 'entries whose `unknown` outcome was resolved (true) or not (false)' })),
  since: Type.Optional({ ...DateTimeWithOffset, description: 'entries at or after this time' }),
  until: Type.Optional({ ...DateTimeWithOffset, description: 'entries before this time' }),
  limit: PageLimit,
  cursor: PageCursor
}, { additionalProperties: false })
export type AuditEventsQuery = Static<typeof AuditEventsQuerySchema>

export const AuditPageSchema = Type.Object({
  items: Type.Array(Type.Ref('AuditEntry')),
  nextCursor: Type.Union([Type.String(), Type.Null()])
})

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

/** A signed checkpoint of the chain's head (see SPEC, "Signed checkpoints"). */
export const AuditCheckpointSchema = Type.Object({
  seq: Type.Integer({ minimum: 1, description: 'record number of the head it signs' }),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'that record\'s chain hash, hex, as verification reports the head' }),
  time: Type.String({ format: 'date-time', description: 'when it was signed, RFC 3339 UTC' }),
  keyId: Type.String({ description: 'RFC 7638 JWK thumbprint of the public key that verifies it' }),
  signature: Type.String({ description: 'base64url Ed25519 signature of the RFC 8785 JSON of { hash, keyId, seq, time }' })
}, { $id: 'AuditCheckpoint', title: 'AuditCheckpoint' })

export const AuditCheckpointsQuerySchema = Type.Object({
  limit: PageLimit,
  cursor: PageCursor
}, { additionalProperties: false })

export const AuditCheckpointPageSchema = Type.Object({
  items: Type.Array(Type.Ref('AuditCheckpoint'), { description: 'newest first' }),
  nextCursor: Nullable(Type.String())
})

export const AuditPublicKeySchema = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ description: 'the public key, base64url' }),
  kid: Type.String({ description: 'the `keyId` its checkpoints carry' })
}, { description: 'the key that verifies this service\'s checkpoints, as a JWK (RFC 8037)' })

export const AuditVerifyQuerySchema = Type.Object({
  mode: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('incremental')], {
    default: 'full',
    description: '`full` (the default) reads the whole chain; `incremental` only the records from the newest checkpoint this service instance ' +
      'verified since it started (with every record before it checked), and checks them against it: fast, but blind to changes made before it ' +
      '(see `anchor`)'
  }))
}, { additionalProperties: false })
export type AuditVerifyQuery = Static<typeof AuditVerifyQuerySchema>

export const AuditVerifySchema = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'records checked along the chain' }),
  head: Nullable(Type.Object({
    seq: Type.Integer(),
    hash: Type.String()
  }, { description: 'the last record that verified: on success the chain\'s head; null when none did (an empty trail)' })),
  checkpoint: Nullable(Type.Ref('AuditCheckpoint', { description: 'the newest stored checkpoint whose signature verified with this service\'s key; null on failure or when there is none' })),
  anchor: Type.Optional(Nullable(Type.Ref('AuditCheckpoint', {
    description: 'incremental answers only: the checkpoint the run read on from (records before it were not read); null when the instance had none ' +
      'yet (after a start, or a failed run) and the whole chain was verified'
  }))),
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
