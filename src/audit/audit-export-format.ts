import type { AuditEntry } from './audit-entry.ts'

/**
 * Export lines, shared by the review API (streamed responses) and the CLI (stdout).
 * NDJSON: one entry per line, as stored (with its resolution, if any). CSV (RFC 4180): a header line, one row per entry,
 * nested fields flattened into dotted columns, `upstream.statuses` as a JSON array, null as
 * an empty cell, CRLF line ends.
 */

export type ExportFormat = 'ndjson' | 'csv'

export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'csv']

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8'
}

type Cell = string | number | boolean | null | undefined

export const CSV_COLUMNS: ReadonlyArray<readonly [name: string, value: (entry: AuditEntry) => Cell]> = [
  ['id', (e) => e.id],
  ['time', (e) => e.time],
  ['requestId', (e) => e.requestId],
  ['action', (e) => e.action],
  ['projectId', (e) => e.projectId],
  ['videoId', (e) => e.videoId],
  ['outcome', (e) => e.outcome],
  ['status', (e) => e.status],
  ['reason', (e) => e.reason],
  ['actor.sub', (e) => e.actor?.sub],
  ['actor.clientId', (e) => e.actor?.clientId],
  ['actor.ip', (e) => e.actor?.ip],
  ['actor.userAgent', (e) => e.actor?.userAgent],
  ['request.cut.startMs', (e) => e.request?.cut?.startMs],
  ['request.cut.endMs', (e) => e.request?.cut?.endMs],
  ['request.cut.startTime', (e) => e.request?.cut?.startTime],
  ['request.cut.endTime', (e) => e.request?.cut?.endTime],
  ['request.visibility', (e) => e.request?.visibility],
  ['request.idempotencyKey', (e) => e.request?.idempotencyKey],
  ['upstream.attempts', (e) => e.upstream?.attempts],
  ['upstream.statuses', (e) => e.upstream === null || e.upstream === undefined ? null : JSON.stringify(e.upstream.statuses ?? [])],
  ['upstream.latencyMs', (e) => e.upstream?.latencyMs],
  ['videoPublicId', (e) => e.videoPublicId],
  ['durationMs', (e) => e.durationMs],
  ['resolution.outcome', (e) => e.resolution?.outcome],
  ['resolution.note', (e) => e.resolution?.note],
  ['resolution.videoPublicId', (e) => e.resolution?.videoPublicId],
  ['resolution.by', (e) => e.resolution?.by],
  ['resolution.time', (e) => e.resolution?.time]
]

const CSV_EOL = '\r\n'
const NEEDS_QUOTES = /[",\r\n]/
/** Cells a spreadsheet would run as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One CSV cell. Strings that would start a spreadsheet formula get a leading `'` (user agents
 * and idempotency keys come from clients); NDJSON carries every value unchanged.
 */
export function csvCell (value: Cell): string {
  if (value === null || value === undefined) return ''
  if (typeof value !== 'string') return String(value)
  const text = FORMULA_START.test(value) ? `'${value}` : value
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export function csvHeaderLine (): string {
  return CSV_COLUMNS.map(([name]) => name).join(',') + CSV_EOL
}

export function csvLine (entry: AuditEntry): string {
  return CSV_COLUMNS.map(([, value]) => csvCell(value(entry))).join(',') + CSV_EOL
}

export function ndjsonLine (entry: AuditEntry): string {
  return JSON.stringify(entry) + '\n'
}

const LINES_PER_CHUNK = 100

/**
 * The export as text chunks (the CSV header first), a few lines per chunk; pull it into a
 * stream (`Readable.from(...)`) and the source is read only as fast as the client takes it.
 */
export async function * exportChunks (entries: AsyncIterable<AuditEntry>, format: ExportFormat): AsyncGenerator<string> {
  const line = format === 'csv' ? csvLine : ndjsonLine
  let chunk = format === 'csv' ? csvHeaderLine() : ''
  let lines = 0
  for await (const entry of entries) {
    chunk += line(entry)
    if (++lines % LINES_PER_CHUNK === 0) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk !== '') yield chunk
}
