import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { AuditFilter } from '../../src/audit/audit-store.ts'
import { BACKENDS, makeEntry } from '../helpers/audit-fixtures.ts'
import { servedTrail } from '../helpers/review-api.ts'
import { hsToken } from '../helpers/tokens.ts'

/** Three of the store's keyset pages (500 each). */
const COUNT = 1500
/** Where the watched scan is held, inside its second page, until the client has its first bytes. */
const HELD_AT = 600

/**
 * An export over real HTTP sends its first rows while the store is still reading: the scan is
 * held part-way until the client has read its first bytes, which an export that waited for the
 * whole scan (or buffered its rows) would never send — the test would then hang to its timeout.
 */
for (const backend of BACKENDS) {
  t.test(`${backend}: an export's first rows reach the client while its scan is under way`, { timeout: 60_000 }, async (t) => {
    const ops = Array.from({ length: COUNT }, (_, i): [AuditEntry, boolean] => [makeEntry(i + 1), true])
    const { app } = await servedTrail(t, backend, ops)
    const store = app.auditStore
    const streamEntries = store.streamEntries.bind(store)
    let scan = { read: 0, ended: false, release: () => {} }
    // The store's own stream, watched: how far it has read; held at HELD_AT until released.
    store.streamEntries = (filter: AuditFilter) => (async function * () {
      const held = new Promise<void>((resolve) => { scan.release = resolve })
      for await (const entry of streamEntries(filter)) {
        if (scan.read === HELD_AT) await held
        scan.read++
        yield entry
      }
      scan.ended = true
    })()
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const token = hsToken({ scope: 'audit:read', projects: '*' })

    for (const [format, accept, lineEnd, headerLines] of [['NDJSON', 'application/x-ndjson', '\n', 0], ['CSV', 'text/csv', '\r\n', 1]] as const) {
      scan = { read: 0, ended: false, release: () => {} }
      const response = await fetch(`${base}/v1/audit/events`, { headers: { authorization: `Bearer ${token}`, accept } })
      t.equal(response.status, 200)
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      const first = await reader.read()
      t.ok(first.done !== true && first.value.byteLength > 0, `${format}: the first bytes arrived`)
      t.equal(scan.ended, false, `${format}: before the scan ended`)
      t.ok(scan.read > 0 && scan.read <= HELD_AT, `${format}: the store had read ${scan.read} of ${COUNT} entries by then`)
      let body = decoder.decode(first.value, { stream: true })
      t.ok(body.split(lineEnd).length - 1 - headerLines > 0, `${format}: whole rows among them`)
      scan.release()
      for (let next = await reader.read(); next.done !== true; next = await reader.read()) body += decoder.decode(next.value, { stream: true })
      t.equal(scan.ended, true, `${format}: then the scan went on to its end`)
      const lines = body.split(lineEnd).slice(0, -1)
      t.equal(lines.length - headerLines, COUNT, `${format}: every entry, once`)
      const newest = format === 'NDJSON' ? (JSON.parse(lines[0] as string) as AuditEntry).id : (lines[1] as string).split(',')[0]
      t.equal(newest, `entry-${COUNT}`, `${format}: newest first`)
    }
  })
}
