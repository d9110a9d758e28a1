import { hash } from 'node:crypto'
import canonicalize from 'canonicalize'
import type { AuditEntry, AuditOutcome, AuditResolution } from './audit-entry.ts'
import type { AuditStore, VerifyResult } from './audit-store.ts'
import type { Checkpoint } from './audit-checkpoint.ts'
import type { TimeIndex } from './audit-time-marks.ts'
import type { UnknownEntry } from './audit-unknown-entries.ts'
import { AuditDuplicateRecordError, AuditInvalidEntryError, AuditRecordMismatchError } from './audit-errors.ts'
import { knownEntryCanonical } from './canonical-entry.ts'

/**
 * The hash chain both stores share. Record `seq` (1, 2, 3… without gaps) is hashed as
 * `SHA-256(prevHash + canonical)`, where `canonical` is the RFC 8785 serialisation of
 * `{ seq, entryId, final, entry }` and `prevHash` is the hash of record `seq - 1`
 * (GENESIS_HASH for the first). The columns that queries filter on are copies of fields of the
 * hashed entry; verification checks that they still agree with it.
 *
 * A resolution (a person's reading of an `unknown` outcome) is a record of kind `resolution` in
 * the same chain, hashed over the RFC 8785 form of `{ seq, entryId, resolution }`: a shape no
 * entry record has, so neither kind can pass for the other.
 */

export const GENESIS_HASH = '0'.repeat(64)

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['succeeded', 'rejected', 'failed', 'unknown']

export type RecordKind = 'entry' | 'resolution'

/** One stored record, as both stores keep it (column names in snake_case there). */
export interface AuditRecordRow {
  seq: number
  entryId: string
  /** An entry's intent or final record; or the resolution of an entry (final, placed at its own seq). */
  kind: RecordKind
  final: boolean
  /** seq of the entry's first record: its intent's, or its own for a lone final. Orders entries. */
  entrySeq: number
  projectId: string | null
  videoId: string | null
  actorSub: string | null
  outcome: string
  /** The entry's `time`, epoch milliseconds. */
  timeMs: number
  /** The entry (or the resolution) as JSON; the hash covers its canonical (RFC 8785) form. */
  body: string
  prevHash: string
  hash: string
}

/** The last record of a chain; kept outside the database, it lets verification detect truncation. */
export interface ChainHead {
  seq: number
  hash: string
}

export type ChainVerifyResult = VerifyResult & {
  /** The last record that verified (null when none did). */
  head: ChainHead | null
}

export interface VerifyOptions {
  /** A head recorded earlier: the chain must still contain this record, with this hash. */
  expectHead?: ChainHead
  /** More points the chain must pass through (checkpoints), in any order. */
  expected?: readonly ExpectedPoint[]
}

/** Both stores: the AuditStore contract, with verification that can check a recorded head. */
export interface ChainedAuditStore extends AuditStore {
  verify (options?: VerifyOptions): Promise<ChainVerifyResult>
  /**
   * Reads the head under the append lock and stores the checkpoint `sign` makes of it, so it
   * names a record of the one chain whatever other instances append. Null, storing nothing,
   * when the chain is empty or its head has a checkpoint already (another instance signed it).
   */
  appendCheckpoint (sign: (head: ChainHead) => Checkpoint): Promise<Checkpoint | null>
  /** Newest first. */
  listCheckpoints (limit: number, cursor: string | null): Promise<CheckpointPage>
  /** A consistent read of the chain for verification; `join` names a snapshot another connection exported (PostgreSQL). */
  openSnapshot (join?: string): Promise<ChainSnapshot>
  /** Called with the number of records after each commit of this store's appends. */
  onAppended (listener: (records: number) => void): void
}

export interface CheckpointPage {
  items: Checkpoint[]
  nextCursor: string | null
}

/** One read of the chain, as of one moment, on its own connection. */
export interface ChainSnapshot {
  /**
   * The snapshot other connections join to read the same rows (PostgreSQL's exported snapshot);
   * null for SQLite, where each reader has its own: records never change once written (the
   * triggers), so every reader sees the same records up to the head read here.
   */
  readonly id: string | null
  head (): Promise<ChainHead | null>
  /** Every stored checkpoint, in seq order. */
  checkpoints (): Promise<Checkpoint[]>
  /** The stored records with seq from..to, in seq order. */
  records (from: number, to: number): AsyncIterable<AuditRecordRow>
  /** The entries with a record at or before `seq` (an incremental verification's anchor) and one in after < seq <= to. */
  spanningEntries (seq: number, after: number, to: number): Promise<SpanningEntries>
  /** The time marks and late entries as stored (audit-time-marks.ts), read as they are consumed. */
  timeIndex (): TimeIndex
  /** The entries that read unknown as stored (audit-unknown-entries.ts), in seq order, read as they are consumed. */
  unknownEntries (): AsyncIterable<UnknownEntry>
  close (): Promise<void>
}

/**
 * Entries with a record at or before a seq and another after it (an intent whose final came
 * later), found by entry id (the columns checked against the hashed body), not by entry_seq.
 */
export interface SpanningEntries {
  entryIds: string[]
  /** The earliest of their records at or before the seq; null when there are none. */
  firstSeq: number | null
}

/** The query behind `spanningEntries`: parameters 1, 2, 3 are seq, after, to; `param` writes the dialect's placeholder. */
export function spanningEntriesQuery (table: string, param: (n: number) => string): string {
  // Driven by the records in the range, each looking its entry up by index: a plain join lets
  // SQLite walk the whole entry index instead (1.2 s of CPU at 1.75 M records, with none after it).
  return `SELECT entry_id, first_seq FROM (SELECT a.entry_id, (SELECT MIN(b.seq) FROM ${table} b
    WHERE b.entry_id = a.entry_id AND b.kind = 'entry' AND b.seq <= ${param(1)}) AS first_seq
    FROM ${table} a WHERE a.seq > ${param(2)} AND a.seq <= ${param(3)} AND a.kind = 'entry') AS later WHERE first_seq IS NOT NULL`
}

export function spanningEntriesFromRows (rows: ReadonlyArray<Record<string, unknown>>): SpanningEntries {
  const seqs = rows.map((row) => Number(row.first_seq))
  return { entryIds: rows.map((row) => row.entry_id as string), firstSeq: seqs.length === 0 ? null : Math.min(...seqs) }
}

/** An entry checked and serialised, ready to be placed in the chain. */
export interface PreparedRecord {
  entryId: string
  final: boolean
  /** The entry as stored, in its own key order. */
  body: string
  /** The RFC 8785 form of `body` read back, computed once: the record's hash is built from it. */
  canonicalEntry: string
  projectId: string | null
  videoId: string | null
  actorSub: string | null
  outcome: AuditOutcome
  timeMs: number
}

/** What the store knows about the chain and the entry when it appends, read under its lock. */
export interface AppendContext {
  head: ChainHead | null
  /** The entry's intent, if it has one. */
  intent: { seq: number, projectId: string | null, timeMs: number } | null
  hasFinal: boolean
}

/** RFC 8785 form of any JSON value; throws for what has none (NaN, Infinity, lone surrogates, cycles). */
function canonicalValue (value: unknown): string {
  const text = canonicalize(value)
  if (text === undefined) throw new AuditInvalidEntryError('not serialisable')
  return text
}

/** RFC 8785 form of an entry: written directly when it has the known shape, else by the generic serialiser. */
export function canonicalEntry (entry: unknown): string {
  return knownEntryCanonical(entry) ?? canonicalValue(entry)
}

/**
 * RFC 8785 form of `{ seq, entryId, final, entry }`, assembled around the entry's canonical
 * text instead of serialising the entry again: the keys in RFC 8785 order (entry < entryId <
 * final < seq), no whitespace. `seq` is a safe integer and `entryId` a string the entry's own
 * canonical form already accepted, so JSON.stringify writes them as RFC 8785 does.
 */
export function canonicalRecord (seq: number, entryId: string, final: boolean, canonicalEntryText: string): string {
  return `{"entry":${canonicalEntryText},"entryId":${JSON.stringify(entryId)},"final":${final},"seq":${seq}}`
}

/** RFC 8785 form of `{ seq, entryId, resolution }` (keys in that order: entryId < resolution < seq). */
function canonicalResolutionRecord (seq: number, entryId: string, canonicalResolutionText: string): string {
  return `{"entryId":${JSON.stringify(entryId)},"resolution":${canonicalResolutionText},"seq":${seq}}`
}

export function recordHash (prevHash: string, canonical: string): string {
  // One-shot: no Hash object per record.
  return hash('sha256', prevHash + canonical)
}

const MAX_ID_LENGTH = 200

/** Epoch milliseconds of an ISO 8601 time with a zone (`Z` or `±hh:mm`); NaN otherwise. */
export function parseIsoTime (text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return Number.NaN
  return Date.parse(text)
}

type RecordColumns = Pick<AuditRecordRow, 'entryId' | 'projectId' | 'videoId' | 'actorSub' | 'outcome' | 'timeMs'>

/** The columns a record's entry implies; both append and verification derive them here. */
function columnsOf (entry: AuditEntry): RecordColumns {
  return {
    entryId: entry.id,
    projectId: entry.projectId ?? null,
    videoId: entry.videoId ?? null,
    actorSub: entry.actor?.sub ?? null,
    outcome: entry.outcome,
    timeMs: typeof entry.time === 'string' ? parseIsoTime(entry.time) : Number.NaN
  }
}

/** The columns of a resolution record: the resolver as actor, no project or video (readers reach it by entry id). */
function resolutionColumnsOf (entryId: string, resolution: AuditResolution): RecordColumns {
  return {
    entryId,
    projectId: null,
    videoId: null,
    actorSub: resolution.by ?? null,
    outcome: resolution.outcome,
    timeMs: typeof resolution.time === 'string' ? parseIsoTime(resolution.time) : Number.NaN
  }
}

/** What JSON.stringify would change without saying so, or null: a walk, cheaper than serialising. */
function lossyJsonValue (value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${value} is not allowed`
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value} is not allowed`
  if (value === null || typeof value !== 'object') return null
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    const lossy = lossyJsonValue(item)
    if (lossy !== null) return lossy
  }
  return null
}

/** Validates and serialises an entry before any lock is taken. */
export function prepareRecord (entry: AuditEntry, final: boolean): PreparedRecord {
  if (typeof entry !== 'object' || entry === null) throw new AuditInvalidEntryError('not an object')
  if (typeof entry.id !== 'string' || entry.id === '' || entry.id.length > MAX_ID_LENGTH) {
    throw new AuditInvalidEntryError(`id must be a string of 1–${MAX_ID_LENGTH} characters`)
  }
  // Stored in the entry's own key order, for people reading it; hashed in canonical form. An
  // entry of the known shape (plain objects, strings, finite numbers, nulls) reads back from its
  // JSON as it is, so its canonical text is written from it directly. Anything else is hashed
  // from the stored JSON read back, exactly as verification will recompute it.
  const known = knownEntryCanonical(entry)
  let body: string
  let stored: AuditEntry
  let canonical: string
  try {
    body = JSON.stringify(entry)
    stored = known === null ? JSON.parse(body) as AuditEntry : entry
    canonical = known ?? canonicalValue(stored)
  } catch (error) {
    throw new AuditInvalidEntryError(`not serialisable (${(error as Error).message})`)
  }
  // Rejects what JSON silently turned into null or dropped (NaN, Infinity, functions); no cycles by now.
  const lossy = known === null ? lossyJsonValue(entry) : null
  if (lossy !== null) throw new AuditInvalidEntryError(`not serialisable (${lossy})`)
  const columns = columnsOf(stored)
  if (Number.isNaN(columns.timeMs)) throw new AuditInvalidEntryError(`time ${JSON.stringify(entry.time)} is not an ISO 8601 time with a zone`)
  if (!AUDIT_OUTCOMES.includes(columns.outcome as AuditOutcome)) throw new AuditInvalidEntryError(`outcome ${JSON.stringify(entry.outcome)} is not one of ${AUDIT_OUTCOMES.join(', ')}`)
  if (!final && columns.outcome !== 'unknown') throw new AuditInvalidEntryError('an intent record must read outcome "unknown"')
  if ('resolution' in entry) throw new AuditInvalidEntryError('a resolution is recorded with resolve(), never inside the entry')
  for (const name of ['projectId', 'videoId', 'actorSub'] as const) {
    const value = columns[name]
    if (value !== null && typeof value !== 'string') throw new AuditInvalidEntryError(`${name} must be a string or null`)
  }
  return { ...columns, outcome: columns.outcome as AuditOutcome, final, body, canonicalEntry: canonical }
}

/**
 * The row to insert, given the chain's head and what the entry already has. Enforces one intent
 * at most, one final at most, no intent after the final, and a final that matches its intent.
 */
export function planAppend (record: PreparedRecord, context: AppendContext): AuditRecordRow {
  const { entryId } = record
  if (context.hasFinal) throw new AuditDuplicateRecordError(`entry ${entryId} already has its final record`)
  let entrySeq: number | null = null
  if (context.intent !== null) {
    if (!record.final) throw new AuditDuplicateRecordError(`entry ${entryId} already has an intent record`)
    if (context.intent.projectId !== record.projectId || context.intent.timeMs !== record.timeMs) {
      throw new AuditRecordMismatchError(`the final record of entry ${entryId} names another projectId or time than its intent`)
    }
    entrySeq = context.intent.seq
  }
  const seq = (context.head?.seq ?? 0) + 1
  const prevHash = context.head?.hash ?? GENESIS_HASH
  const hash = recordHash(prevHash, canonicalRecord(seq, entryId, record.final, record.canonicalEntry))
  return {
    seq,
    entryId,
    kind: 'entry',
    final: record.final,
    entrySeq: entrySeq ?? seq,
    projectId: record.projectId,
    videoId: record.videoId,
    actorSub: record.actorSub,
    outcome: record.outcome,
    timeMs: record.timeMs,
    body: record.body,
    prevHash,
    hash
  }
}

/** A resolution checked and serialised, ready to be placed in the chain. */
export interface PreparedResolution extends RecordColumns {
  body: string
  canonical: string
}

const RESOLUTION_OUTCOMES: ReadonlyArray<AuditResolution['outcome']> = ['succeeded', 'failed']
const MAX_NOTE_LENGTH = 1000

/** Validates and serialises a resolution of entry `entryId` before any lock is taken. */
export function prepareResolution (entryId: string, resolution: AuditResolution): PreparedResolution {
  const { outcome, note, videoPublicId, by, time } = resolution
  if (!RESOLUTION_OUTCOMES.includes(outcome)) throw new AuditInvalidEntryError(`resolution outcome ${JSON.stringify(outcome)} is not succeeded or failed`)
  if (typeof note !== 'string' || note === '' || [...note].length > MAX_NOTE_LENGTH) throw new AuditInvalidEntryError(`a resolution note has 1–${MAX_NOTE_LENGTH} characters`)
  for (const [name, value] of [['videoPublicId', videoPublicId], ['by', by]] as const) {
    if (value !== null && typeof value !== 'string') throw new AuditInvalidEntryError(`resolution ${name} must be a string or null`)
  }
  // Exactly the five members, in this order, whatever the caller's object holds besides.
  const stored: AuditResolution = { outcome, note, videoPublicId, by, time }
  const columns = resolutionColumnsOf(entryId, stored)
  if (Number.isNaN(columns.timeMs)) throw new AuditInvalidEntryError(`resolution time ${JSON.stringify(time)} is not an ISO 8601 time with a zone`)
  let canonical: string
  try {
    canonical = canonicalValue(stored)
  } catch (error) {
    throw new AuditInvalidEntryError(`resolution not serialisable (${(error as Error).message})`)
  }
  return { ...columns, body: JSON.stringify(stored), canonical }
}

/** The row of a resolution appended after `head`: final, at its own place (entry_seq = seq). */
export function planResolution (resolution: PreparedResolution, head: ChainHead | null): AuditRecordRow {
  const seq = (head?.seq ?? 0) + 1
  const prevHash = head?.hash ?? GENESIS_HASH
  const { body, canonical, ...columns } = resolution
  return {
    ...columns,
    seq,
    kind: 'resolution',
    final: true,
    entrySeq: seq,
    body,
    prevHash,
    hash: recordHash(prevHash, canonicalResolutionRecord(seq, resolution.entryId, canonical))
  }
}

/** A record one of a batch's entries already has. */
export type KnownRecord = Pick<AuditRecordRow, 'entryId' | 'final' | 'seq' | 'projectId' | 'timeMs'>

/** What the store knows when it appends a batch, read in one query under its lock. */
export interface BatchContext {
  head: ChainHead | null
  /** Every record the batch's entries already have. */
  known: readonly KnownRecord[]
}

/**
 * The rows to insert for a batch, in order, each chained to the one before it, with the same
 * checks as `planAppend` (a batch may hold an entry's intent and its final). Throws at the first
 * record that cannot be appended; the caller then writes none of them.
 */
export function planBatch (records: readonly PreparedRecord[], context: BatchContext): AuditRecordRow[] {
  const intents = new Map<string, NonNullable<AppendContext['intent']>>()
  const finals = new Set<string>()
  const remember = (record: KnownRecord): void => {
    if (record.final) finals.add(record.entryId)
    else intents.set(record.entryId, { seq: record.seq, projectId: record.projectId, timeMs: record.timeMs })
  }
  for (const record of context.known) remember(record)
  let head = context.head
  return records.map((record) => {
    const row = planAppend(record, { head, intent: intents.get(record.entryId) ?? null, hasFinal: finals.has(record.entryId) })
    head = { seq: row.seq, hash: row.hash }
    remember(row)
    return row
  })
}

/** Rows as the drivers return them: integers may come as strings (pg int8) or bigints, booleans as 0/1. */
export function recordFromRow (row: Record<string, unknown>): AuditRecordRow {
  return {
    seq: Number(row.seq),
    entryId: row.entry_id as string,
    kind: (row.kind ?? 'entry') as RecordKind,
    final: row.final === true || Number(row.final) === 1,
    entrySeq: Number(row.entry_seq),
    projectId: (row.project_id ?? null) as string | null,
    videoId: (row.video_id ?? null) as string | null,
    actorSub: (row.actor_sub ?? null) as string | null,
    outcome: row.outcome as string,
    timeMs: Number(row.time_ms),
    body: row.body as string,
    prevHash: row.prev_hash as string,
    hash: row.hash as string
  }
}

const COLUMN_NAMES = { entryId: 'entry_id', projectId: 'project_id', videoId: 'video_id', actorSub: 'actor_sub', outcome: 'outcome', timeMs: 'time_ms' } as const

/** The first record that is not what was appended, and why. */
export interface BadRecord {
  seq: number
  entryId: string | null
  problem: string
}

/**
 * What one record shows by itself, given its stored prev_hash: a changed field (hash mismatch),
 * a body that is not an entry (or resolution), an indexed column that disagrees with the hashed
 * body, an intent that does not read `unknown`, a resolution that is not final or resolves to
 * neither succeeded nor failed. Needs no other record, so records can be checked in
 * any order, in parallel; `LinkCheck` then ties them together.
 */
export function recordProblem (row: AuditRecordRow): string | null {
  if (row.kind !== 'entry' && row.kind !== 'resolution') return `column kind (${JSON.stringify(row.kind)}) is neither entry nor resolution`
  let body: unknown
  try {
    body = JSON.parse(row.body)
  } catch {
    return 'body is not valid JSON'
  }
  let canonical: string
  try {
    canonical = row.kind === 'entry'
      ? canonicalRecord(row.seq, row.entryId, row.final, canonicalEntry(body))
      : canonicalResolutionRecord(row.seq, row.entryId, canonicalValue(body))
  } catch {
    return 'body cannot be serialised canonically'
  }
  if (recordHash(row.prevHash, canonical) !== row.hash) return 'hash does not match the record\'s content: the record was changed'
  if (typeof body !== 'object' || body === null) return `body is not ${row.kind === 'entry' ? 'an entry' : 'a resolution'} object`
  const columns = row.kind === 'entry' ? columnsOf(body as AuditEntry) : resolutionColumnsOf(row.entryId, body as AuditResolution)
  for (const name of Object.keys(COLUMN_NAMES) as Array<keyof typeof COLUMN_NAMES>) {
    if (row[name] !== columns[name]) {
      return `column ${COLUMN_NAMES[name]} (${JSON.stringify(row[name])}) disagrees with the hashed ${row.kind} (${JSON.stringify(columns[name])})`
    }
  }
  if (row.kind === 'resolution') {
    if (!row.final) return 'a resolution record is not marked final'
    if (!RESOLUTION_OUTCOMES.includes(columns.outcome as AuditResolution['outcome'])) return 'a resolution reads an outcome other than succeeded or failed'
  } else if (!row.final && (body as AuditEntry).outcome !== 'unknown') {
    return 'an intent record reads an outcome other than "unknown"'
  }
  return null
}

/**
 * Records in seq order without gaps, each linked to the one before: catches a deleted record
 * (seq gap), an inserted, moved or replaced one (broken link). `prevHash` null: the first
 * record's link is checked by whoever holds the record before it (a parallel run's chunks).
 */
export class LinkCheck {
  #nextSeq: number
  #prevHash: string | null
  constructor (firstSeq = 1, prevHash: string | null = GENESIS_HASH) {
    this.#nextSeq = firstSeq
    this.#prevHash = prevHash
  }

  check (row: Pick<AuditRecordRow, 'seq' | 'entryId' | 'prevHash' | 'hash'>): BadRecord | null {
    const expectedSeq = this.#nextSeq
    if (row.seq < expectedSeq) return { seq: row.seq, entryId: row.entryId, problem: `record ${row.seq} appears again or out of order after record ${expectedSeq - 1}` }
    if (row.seq > expectedSeq) {
      return { seq: expectedSeq, entryId: null, problem: `record ${expectedSeq} is missing: the next stored record is ${row.seq} (records were deleted)` }
    }
    if (this.#prevHash !== null && row.prevHash !== this.#prevHash) {
      return {
        seq: row.seq,
        entryId: row.entryId,
        problem: row.seq === 1
          ? 'prev_hash is not the genesis hash: the chain does not start here'
          : `prev_hash does not match the hash of record ${row.seq - 1}: a record was inserted, removed, moved or replaced before this one`
      }
    }
    this.#nextSeq = row.seq + 1
    this.#prevHash = row.hash
    return null
  }
}

/** What the entry checks need of a record. */
export type RecordFacts = Pick<AuditRecordRow, 'seq' | 'entryId' | 'kind' | 'final' | 'entrySeq' | 'projectId' | 'timeMs'>

/**
 * The records of each entry, in seq order: one intent at most, a final that matches its intent,
 * entry_seq pointing at the entry's first record. Memory stays bounded by the open intents.
 */
export class EntryCheck {
  readonly #openIntents = new Map<string, { seq: number, projectId: string | null, timeMs: number }>()

  check (row: RecordFacts): BadRecord | null {
    const bad = (problem: string): BadRecord => ({ seq: row.seq, entryId: row.entryId, problem })
    let expectedEntrySeq = row.seq
    const intent = this.#openIntents.get(row.entryId)
    // A resolution stands at its own seq and leaves the entry's intent and final as they were.
    if (row.kind === 'entry' && !row.final) {
      if (intent !== undefined) return bad(`second intent for entry ${row.entryId} (the first is record ${intent.seq})`)
      this.#openIntents.set(row.entryId, { seq: row.seq, projectId: row.projectId, timeMs: row.timeMs })
    } else if (row.kind === 'entry' && intent !== undefined) {
      if (intent.projectId !== row.projectId || intent.timeMs !== row.timeMs) {
        return bad(`final record names another projectId or time than its intent (record ${intent.seq})`)
      }
      expectedEntrySeq = intent.seq
      this.#openIntents.delete(row.entryId)
    }
    if (row.entrySeq !== expectedEntrySeq) return bad(`column entry_seq (${row.entrySeq}) should be ${expectedEntrySeq}`)
    return null
  }
}

/** A point the chain must still pass through: a head recorded earlier, a signed checkpoint. */
export interface ExpectedPoint {
  seq: number
  hash: string
  /** How messages name it, e.g. "the recorded head 10". */
  name: string
  /** Known before the walk: why the point itself is not to be trusted (its signature fails). */
  problem?: string
}

/** The chain must reach every expected point, with its hash: catches records removed from the end, or a chain rewritten up to a point. */
export class PointCheck {
  readonly #points: ExpectedPoint[]
  #next = 0
  constructor (points: readonly ExpectedPoint[]) {
    this.#points = [...points].sort((a, b) => a.seq - b.seq)
  }

  /** The seqs whose hashes `check` needs. */
  get seqs (): number[] { return this.#points.map((point) => point.seq) }

  /** Record `seq`, which has every earlier record before it; `hash` is needed only at an expected seq. */
  check (seq: number, entryId: string, hash: string | undefined): BadRecord | null {
    while (this.#next < this.#points.length && (this.#points[this.#next] as ExpectedPoint).seq === seq) {
      const point = this.#points[this.#next++] as ExpectedPoint
      if (point.problem !== undefined) return { seq, entryId, problem: `${point.name}: ${point.problem}` }
      if (hash !== point.hash) return { seq, entryId, problem: `hash differs from ${point.name}: the chain was rewritten up to here` }
    }
    return null
  }

  /** After the last record, `checked` records in all. */
  finish (checked: number): BadRecord | null {
    const point = this.#points[this.#next]
    if (point === undefined) return null
    if (point.problem !== undefined) return { seq: checked + 1, entryId: null, problem: `${point.name}: ${point.problem}` }
    return { seq: checked + 1, entryId: null, problem: `the chain ends at record ${checked}, before ${point.name}: records at the end were removed` }
  }
}

/** The points of `options` the chain must pass through. */
function expectedPoints (options: VerifyOptions): ExpectedPoint[] {
  const points = [...(options.expected ?? [])]
  if (options.expectHead !== undefined) points.push({ ...options.expectHead, name: `the recorded head ${options.expectHead.seq}` })
  return points
}

/**
 * Walks the chain in seq order, in this thread, and reports the first record that is not what
 * was appended (see recordProblem, LinkCheck, EntryCheck, PointCheck, applied in that order).
 */
export async function verifyChain (records: AsyncIterable<AuditRecordRow> | Iterable<AuditRecordRow>, options: VerifyOptions = {}): Promise<ChainVerifyResult> {
  const links = new LinkCheck()
  const entries = new EntryCheck()
  const points = new PointCheck(expectedPoints(options))
  let head: ChainHead | null = null
  let checked = 0
  for await (const row of records) {
    const local = recordProblem(row)
    const bad = links.check(row) ?? (local === null ? null : { seq: row.seq, entryId: row.entryId, problem: local }) ??
      entries.check(row) ?? points.check(row.seq, row.entryId, row.hash)
    if (bad !== null) return { ok: false, checked, firstBad: bad, head }
    head = { seq: row.seq, hash: row.hash }
    checked++
  }
  const bad = points.finish(checked)
  return bad === null ? { ok: true, checked, head } : { ok: false, checked, firstBad: bad, head }
}

export function parseChainHead (text: string): ChainHead {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text)
  if (match === null) throw new TypeError(`head ${JSON.stringify(text)} is not <seq>:<64 hex digits>`)
  return { seq: Number(match[1]), hash: match[2] as string }
}

export function formatChainHead (head: ChainHead): string {
  return `${head.seq}:${head.hash}`
}
