/**
 * Exports of the review API on a seeded trail, over HTTP: NDJSON and CSV of a few filters, from
 * everything down to a selective one, each read as a client reads a download. Time to the
 * first byte of the body, and rows per second, over the first `EXPORT_ROWS` rows at most (an
 * export of a large project at 10 M entries is hundreds of thousands of rows): a selective
 * filter is read to its end, so its time is that of the whole scan.
 */
import { projectName, subjectName, videoName, SEED_PROJECTS, SEED_SUBJECTS, SEED_VIDEOS } from './seed-history.ts'
import { randomPicker } from './review-queries.ts'

export const EXPORT_ROWS = 20_000
const FORMATS = [['ndjson', 'application/x-ndjson'], ['csv', 'text/csv']] as const

export interface ExportResult {
  kind: string
  format: 'ndjson' | 'csv'
  path: string
  /** From sending the request to the first byte of the body. */
  firstByteMs: number
  rows: number
  /** Whether the export ended by itself (every match), not cut at EXPORT_ROWS. */
  complete: boolean
  seconds: number
  rowsPerSecond: number
  bytes: number
  problem: string | null
}

/** The filters, values drawn like the seeded history (deterministic): the largest project is p-0, ~7 % of the entries. */
function exportKinds (): Array<{ kind: string, query: string }> {
  const pick = randomPicker()
  return [
    { kind: 'everything', query: '' },
    { kind: 'the largest project', query: `projectId=${projectName(0)}` },
    { kind: 'a project', query: `projectId=${projectName(pick(SEED_PROJECTS))}` },
    { kind: 'outcome unknown', query: 'outcome=unknown' },
    { kind: 'actor and outcome failed (selective)', query: `actor=${subjectName(pick(SEED_SUBJECTS))}&outcome=failed` },
    { kind: 'video (selective)', query: `videoId=${videoName(pick(SEED_VIDEOS))}` }
  ]
}

async function measureExport (url: string, token: string, accept: string): Promise<Omit<ExportResult, 'kind' | 'format' | 'path'>> {
  const startedAt = performance.now()
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept } })
  const failed = (problem: string): Omit<ExportResult, 'kind' | 'format' | 'path'> =>
    ({ firstByteMs: Number.NaN, rows: 0, complete: false, seconds: 0, rowsPerSecond: 0, bytes: 0, problem })
  if (response.status !== 200 || response.body === null) return failed(`answered ${response.status}: ${await response.text()}`)
  const reader = response.body.getReader()
  let firstByteAt: number | null = null
  let lines = 0
  let bytes = 0
  let complete = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) {
      complete = true
      break
    }
    firstByteAt ??= performance.now()
    bytes += value.byteLength
    // Both formats end each line with \n (CSV with \r\n); no seeded value holds a line break.
    for (let i = value.indexOf(10); i !== -1; i = value.indexOf(10, i + 1)) lines++
    if (lines >= EXPORT_ROWS) {
      await reader.cancel()
      break
    }
  }
  const endedAt = performance.now()
  const rows = accept === 'text/csv' ? Math.max(0, lines - 1) : lines
  const seconds = (endedAt - startedAt) / 1000
  return { firstByteMs: Math.round(((firstByteAt ?? endedAt) - startedAt) * 1000) / 1000, rows, complete, seconds, rowsPerSecond: Math.round(rows / seconds), bytes, problem: null }
}

export async function measureExports (serverUrl: string, auditToken: string, log: (line: string) => void): Promise<ExportResult[]> {
  const results: ExportResult[] = []
  for (const { kind, query } of exportKinds()) {
    for (const [format, accept] of FORMATS) {
      const path = `/v1/audit/events${query === '' ? '' : `?${query}`}`
      const result = { kind, format, path, ...await measureExport(`${serverUrl}${path}`, auditToken, accept) }
      log(`    ${kind}, ${format}: first byte ${result.firstByteMs} ms, ${result.rows.toLocaleString('en')} rows${result.complete ? ' (all)' : ''} at ${result.rowsPerSecond.toLocaleString('en')} rows/s` +
        `${result.problem === null ? '' : ` — FAILED: ${result.problem}`}`)
      results.push(result)
    }
  }
  return results
}
