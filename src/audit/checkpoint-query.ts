import type { Checkpoint } from './audit-checkpoint.ts'
import type { ChainHead, CheckpointPage } from './audit-chain.ts'
import { decodeCursor, encodeCursor, MAX_PAGE_LIMIT, type RunQuery, type SqlDialect, type SqlQuery } from './audit-query.ts'
import { AuditInvalidFilterError } from './audit-errors.ts'

/**
 * Checkpoint queries both stores share, like audit-query.ts for records. `records` and
 * `checkpoints` are the (schema-qualified) table names.
 */

/** The head, and whether it has a checkpoint already: read under the append lock before signing. */
export function headToSignQuery (records: string, checkpoints: string): SqlQuery {
  return {
    text: `SELECT h.seq, h.hash, EXISTS (SELECT 1 FROM ${checkpoints} c WHERE c.seq >= h.seq) AS signed
      FROM (SELECT seq, hash FROM ${records} ORDER BY seq DESC LIMIT 1) h`,
    values: []
  }
}

/** The head read by `headToSignQuery`, or null when there is nothing to sign. */
export function headToSign (rows: ReadonlyArray<Record<string, unknown>>): ChainHead | null {
  const [row] = rows
  if (row === undefined || row.signed === true || Number(row.signed) === 1) return null
  return { seq: Number(row.seq), hash: row.hash as string }
}

export function insertCheckpointQuery (checkpoints: string, checkpoint: Checkpoint, dialect: SqlDialect): SqlQuery {
  const values = [checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.keyId, checkpoint.signature]
  return {
    text: `INSERT INTO ${checkpoints} (seq, hash, time, key_id, signature) VALUES (${values.map((_, i) => dialect.param(i + 1)).join(', ')})`,
    values
  }
}

export function allCheckpointsQuery (checkpoints: string): SqlQuery {
  return { text: `SELECT seq, hash, time, key_id, signature FROM ${checkpoints} ORDER BY seq`, values: [] }
}

export function checkpointFromRow (row: Record<string, unknown>): Checkpoint {
  return { seq: Number(row.seq), hash: row.hash as string, time: row.time as string, keyId: row.key_id as string, signature: row.signature as string }
}

/** One page of checkpoints, newest first; the cursor is the seq the next page starts below. */
export async function readCheckpointPage (run: RunQuery, checkpoints: string, dialect: SqlDialect, limit: number, cursor: string | null): Promise<CheckpointPage> {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new AuditInvalidFilterError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  }
  const before = cursor === null ? null : decodeCursor(cursor)
  const rows = await run({
    text: `SELECT seq, hash, time, key_id, signature FROM ${checkpoints}
      ${before === null ? '' : `WHERE seq < ${dialect.param(2)}`} ORDER BY seq DESC LIMIT ${dialect.param(1)}`,
    values: before === null ? [limit + 1] : [limit + 1, before]
  })
  const items = rows.slice(0, limit).map(checkpointFromRow)
  const last = items.at(-1)
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.seq) : null }
}
