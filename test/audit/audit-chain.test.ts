import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import {
  type AuditRecordRow, canonicalEntry, canonicalRecord, GENESIS_HASH, parseChainHead, planAppend, planBatch, prepareRecord, recordHash, verifyChain
} from '../../src/audit/audit-chain.ts'
import { decodeCursor, encodeCursor, scopeOf } from '../../src/audit/audit-query.ts'
import { intentOf, makeEntry } from '../helpers/audit-fixtures.ts'

/** Builds a chain in memory exactly as a store appends it. */
function buildChain (ops: Array<[AuditEntry, boolean]>): AuditRecordRow[] {
  const rows: AuditRecordRow[] = []
  for (const [entry, final] of ops) {
    const record = prepareRecord(entry, final)
    const intent = rows.find((row) => row.entryId === record.entryId && !row.final)
    const last = rows.at(-1)
    rows.push(planAppend(record, {
      head: last === undefined ? null : { seq: last.seq, hash: last.hash },
      intent: intent === undefined ? null : { seq: intent.seq, projectId: intent.projectId, timeMs: intent.timeMs },
      hasFinal: rows.some((row) => row.entryId === record.entryId && row.final)
    }))
  }
  return rows
}

/** Ten records: entries 1 and 3 open with an intent and close later, 5 stays open. */
function sampleChain (): AuditRecordRow[] {
  return buildChain([
    [intentOf(makeEntry(1)), false], [makeEntry(2), true], [intentOf(makeEntry(3)), false], [makeEntry(1), true],
    [makeEntry(3, { outcome: 'failed', status: 503 }), true], [makeEntry(4, { projectId: 'proj-b' }), true],
    [intentOf(makeEntry(5)), false], [makeEntry(6), true], [makeEntry(7), true], [makeEntry(8), true]
  ])
}

const rehash = (row: AuditRecordRow, prevHash: string): AuditRecordRow =>
  ({ ...row, prevHash, hash: recordHash(prevHash, canonicalRecord(row.seq, row.entryId, row.final, canonicalEntry(JSON.parse(row.body)))) })

t.test('a record hashes as SHA-256 over the previous hash and its RFC 8785 serialisation', async (t) => {
  const [first, second] = sampleChain() as [AuditRecordRow, AuditRecordRow]
  t.equal(first.prevHash, GENESIS_HASH, 'the first record links to the genesis hash')
  t.equal(GENESIS_HASH, '0'.repeat(64))
  const entry = JSON.parse(first.body) as AuditEntry
  const canonical = JSON.stringify({ entry: sortKeys(entry), entryId: 'entry-1', final: false, seq: 1 })
  t.equal(canonicalRecord(1, 'entry-1', false, canonicalEntry(entry)), canonical, 'keys sorted, no whitespace')
  t.equal(first.hash, createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'))
  t.equal(second.prevHash, first.hash, 'each record binds its predecessor')
  const reordered = { ...entry, time: entry.time, id: entry.id }
  t.equal(canonicalRecord(1, 'entry-1', false, canonicalEntry(reordered)), canonical, 'key order of the entry does not matter')
})

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]))
}

t.test('an untouched chain verifies and reports its head', async (t) => {
  const rows = sampleChain()
  const result = await verifyChain(rows)
  t.same(result, { ok: true, checked: 10, head: { seq: 10, hash: rows[9]?.hash } })
  t.same(await verifyChain([]), { ok: true, checked: 0, head: null }, 'an empty chain is intact')
  t.equal(rows[3]?.entrySeq, 1, 'a final record takes the place of its intent')
  t.equal(rows[1]?.entrySeq, 2, 'a lone final record takes its own place')
})

t.test('verification names the first bad record', async (t) => {
  // [what was done, how, the record named, the problem, records verified before it (default seq - 1)]
  const cases: Array<[string, (rows: AuditRecordRow[]) => AuditRecordRow[], number, RegExp, number?]> = [
    ['a changed field', (rows) => rows.map((row) => row.seq === 5 ? { ...row, body: row.body.replace('"failed"', '"succeeded"') } : row), 5, /hash does not match/],
    ['a changed indexed column', (rows) => rows.map((row) => row.seq === 6 ? { ...row, projectId: 'proj-a' } : row), 6, /column project_id/],
    ['a changed time column', (rows) => rows.map((row) => row.seq === 2 ? { ...row, timeMs: row.timeMs + 1 } : row), 2, /column time_ms/],
    ['a changed entry_seq', (rows) => rows.map((row) => row.seq === 4 ? { ...row, entrySeq: 4 } : row), 4, /entry_seq/],
    ['a deleted record', (rows) => rows.filter((row) => row.seq !== 4), 4, /record 4 is missing/],
    ['a deleted record, the rest renumbered', (rows) => rows.filter((row) => row.seq !== 4).map((row, i) => ({ ...row, seq: i + 1 })), 4, /prev_hash does not match the hash of record 3/],
    ['two bodies swapped', (rows) => swap(rows, 3, 7, (a, b) => ({ ...a, body: b.body })), 3, /hash does not match/],
    ['two records reordered', (rows) => swap(rows, 3, 7, (a, b) => ({ ...b, seq: a.seq })), 3, /prev_hash/],
    ['a duplicate seq', (rows) => [...rows.slice(0, 5), { ...rows[4] as AuditRecordRow }, ...rows.slice(5)], 5, /appears again/, 5],
    ['a forged record with a made-up hash', (rows) => [...rows, { ...rows[9] as AuditRecordRow, seq: 11, prevHash: rows[9]?.hash as string, hash: 'f'.repeat(64) }], 11, /hash does not match/],
    ['a forged record hashed properly, inserted in the middle', (rows) => {
      // As the store would have written it, had it been appended after record 4.
      const forged = planAppend(prepareRecord(makeEntry(99), true), { head: { seq: 4, hash: rows[3]?.hash as string }, intent: null, hasFinal: false })
      return [...rows.slice(0, 4), forged, ...rows.slice(4).map((row) => ({ ...row, seq: row.seq + 1 }))]
    }, 6, /prev_hash does not match the hash of record 5/],
    ['a chain that does not start at genesis', (rows) => rows.slice(1).map((row, i) => ({ ...row, seq: i + 1 })), 1, /genesis/],
    ['a body that is not JSON', (rows) => rows.map((row) => row.seq === 8 ? { ...row, body: '{' } : row), 8, /not valid JSON/]
  ]
  for (const [name, tamper, seq, problem, checked = seq - 1] of cases) {
    const result = await verifyChain(tamper(sampleChain()))
    t.equal(result.ok, false, `${name}: detected`)
    if (result.ok) continue
    t.equal(result.firstBad.seq, seq, `${name}: record ${seq} named`)
    t.match(result.firstBad.problem, problem, `${name}: ${result.firstBad.problem}`)
    t.equal(result.checked, checked, `${name}: the records before it verified`)
  }
})

function swap (rows: AuditRecordRow[], a: number, b: number, put: (into: AuditRecordRow, from: AuditRecordRow) => AuditRecordRow): AuditRecordRow[] {
  const ra = rows[a - 1] as AuditRecordRow
  const rb = rows[b - 1] as AuditRecordRow
  return rows.map((row) => row.seq === a ? put(ra, rb) : row.seq === b ? put(rb, ra) : row)
}

t.test('a recorded head catches what the chain alone cannot: records removed from the end, or a rewritten chain', async (t) => {
  const rows = sampleChain()
  const head = { seq: 10, hash: rows[9]?.hash as string }
  const truncated = rows.slice(0, 8)
  t.equal((await verifyChain(truncated)).ok, true, 'alone, a truncated chain still verifies: nothing links forward')
  const caught = await verifyChain(truncated, { expectHead: head })
  t.match(caught, { ok: false, checked: 8, firstBad: { seq: 9, entryId: null, problem: /ends at record 8, before the recorded head 10/ } })
  t.same(await verifyChain(rows, { expectHead: head }), { ok: true, checked: 10, head })
  t.same((await verifyChain(rows, { expectHead: { seq: 5, hash: rows[4]?.hash as string } })).ok, true, 'an older head still checks out')
  // Every record rehashed from record 2 on: internally consistent, but not the chain once recorded.
  let prev = rows[0]?.hash as string
  const rewritten = rows.map((row) => {
    if (row.seq === 1) return row
    const next = rehash(row.seq === 2 ? { ...row, body: row.body.replace('"alice"', '"mallory"'), actorSub: 'mallory' } : row, prev)
    prev = next.hash
    return next
  })
  t.equal((await verifyChain(rewritten)).ok, true, 'a rewrite by someone who rehashes everything verifies on its own')
  t.match(await verifyChain(rewritten, { expectHead: head }), { ok: false, firstBad: { seq: 10, problem: /recorded head/ } })
  t.same(parseChainHead(`10:${head.hash}`), head)
  t.throws(() => parseChainHead('10:abc'))
})

t.test('appends keep one intent and one final per entry, the final matching its intent', async (t) => {
  const rows = sampleChain()
  const head = { seq: 10, hash: rows[9]?.hash as string }
  t.throws(() => planAppend(prepareRecord(makeEntry(2), true), { head, intent: null, hasFinal: true }), { code: 'AUDIT_DUPLICATE_RECORD' }, 'second final')
  t.throws(() => planAppend(prepareRecord(intentOf(makeEntry(2)), false), { head, intent: null, hasFinal: true }), { code: 'AUDIT_DUPLICATE_RECORD' }, 'intent after final')
  t.throws(() => planAppend(prepareRecord(intentOf(makeEntry(5)), false), { head, intent: { seq: 7, projectId: 'proj-a', timeMs: Date.parse(makeEntry(5).time) }, hasFinal: false }), { code: 'AUDIT_DUPLICATE_RECORD' }, 'second intent')
  t.throws(() => planAppend(prepareRecord(makeEntry(5, { projectId: 'proj-b' }), true), { head, intent: { seq: 7, projectId: 'proj-a', timeMs: Date.parse(makeEntry(5).time) }, hasFinal: false }), { code: 'AUDIT_RECORD_MISMATCH' }, 'final of another project')
  const closing = planAppend(prepareRecord(makeEntry(5), true), { head, intent: { seq: 7, projectId: 'proj-a', timeMs: Date.parse(makeEntry(5).time) }, hasFinal: false })
  t.match(closing, { seq: 11, entrySeq: 7, final: true, prevHash: head.hash })
})

t.test('a record\'s canonical form, assembled around its entry\'s, is RFC 8785 of the whole record', async (t) => {
  const entry = makeEntry(3, { id: 'id "quoted" \\ \u2028 é 😀', projectId: 'proj-ü' })
  for (const [seq, final] of [[1, false], [123456789, true]] as const) {
    t.equal(canonicalRecord(seq, entry.id, final, canonicalEntry(entry)), canonicalize({ seq, entryId: entry.id, final, entry }))
  }
})

t.test('a batch is planned as the same records appended one by one, split anywhere', async (t) => {
  const ops: Array<[AuditEntry, boolean]> = [
    [intentOf(makeEntry(1)), false], [makeEntry(2), true], [intentOf(makeEntry(3)), false], [makeEntry(1), true],
    [makeEntry(3, { outcome: 'failed', status: 503 }), true], [intentOf(makeEntry(5)), false], [makeEntry(6), true]
  ]
  const oneByOne = buildChain(ops)
  const records = ops.map(([entry, final]) => prepareRecord(entry, final))
  t.same(planBatch(records, { head: null, known: [] }), oneByOne, 'one batch, intents and their finals in it')
  for (const split of [1, 3, 4]) {
    const first = planBatch(records.slice(0, split), { head: null, known: [] })
    const last = first.at(-1) as AuditRecordRow
    const second = planBatch(records.slice(split), { head: { seq: last.seq, hash: last.hash }, known: first })
    t.same([...first, ...second], oneByOne, `two batches split after record ${split}`)
  }
  const head = { seq: 7, hash: oneByOne[6]?.hash as string }
  t.throws(() => planBatch([prepareRecord(makeEntry(8), true), prepareRecord(makeEntry(2), true)], { head, known: oneByOne }),
    { code: 'AUDIT_DUPLICATE_RECORD' }, 'a final the store already holds')
  t.throws(() => planBatch([prepareRecord(makeEntry(9), true), prepareRecord(makeEntry(9), true)], { head, known: [] }),
    { code: 'AUDIT_DUPLICATE_RECORD' }, 'two finals of one entry in one batch')
  t.throws(() => planBatch([prepareRecord(makeEntry(5, { projectId: 'proj-b' }), true)], { head, known: oneByOne }),
    { code: 'AUDIT_RECORD_MISMATCH' }, 'a final that does not match its stored intent')
})

t.test('entries that cannot be recorded faithfully are refused', async (t) => {
  t.throws(() => prepareRecord(makeEntry(1), false), { code: 'AUDIT_INVALID_ENTRY' }, 'an intent must read unknown')
  t.throws(() => prepareRecord(makeEntry(1, { time: 'yesterday' }), true), { code: 'AUDIT_INVALID_ENTRY' })
  t.throws(() => prepareRecord(makeEntry(1, { time: '2025-01-01T00:00:00' }), true), { code: 'AUDIT_INVALID_ENTRY' }, 'a time without zone is ambiguous')
  t.throws(() => prepareRecord(makeEntry(1, { id: '' }), true), { code: 'AUDIT_INVALID_ENTRY' })
  t.throws(() => prepareRecord(makeEntry(1, { durationMs: Number.NaN }), true), { code: 'AUDIT_INVALID_ENTRY' }, 'NaN would silently become null')
  t.throws(() => prepareRecord({ ...makeEntry(1), extra: [1, Number.POSITIVE_INFINITY] } as AuditEntry, true), { code: 'AUDIT_INVALID_ENTRY' }, 'Infinity, however deep')
  t.throws(() => prepareRecord({ ...makeEntry(1), extra: { hook: () => 1 } } as unknown as AuditEntry, true), { code: 'AUDIT_INVALID_ENTRY' }, 'a function would silently vanish')
  const cyclic: Record<string, unknown> = { ...makeEntry(1) }
  cyclic.self = cyclic
  t.throws(() => prepareRecord(cyclic as unknown as AuditEntry, true), { code: 'AUDIT_INVALID_ENTRY' }, 'a cycle')
  t.throws(() => prepareRecord(makeEntry(1, { projectId: 'proj-\ud800' }), true), { code: 'AUDIT_INVALID_ENTRY' }, 'a lone surrogate has no canonical form')
  t.throws(() => prepareRecord(makeEntry(1, { outcome: 'maybe' as never }), true), { code: 'AUDIT_INVALID_ENTRY' })
  const withUndefined = prepareRecord({ ...makeEntry(1), extra: undefined } as AuditEntry, true)
  t.notOk('extra' in JSON.parse(withUndefined.body), 'what is read back is what was hashed')
  t.equal(withUndefined.canonicalEntry, canonicalize(JSON.parse(withUndefined.body)))
})

t.test('cursors are opaque and checked', async (t) => {
  t.equal(decodeCursor(encodeCursor(42)), 42)
  t.match(encodeCursor(42), /^[A-Za-z0-9_-]+$/, 'URL-safe')
  const encode = (text: string): string => Buffer.from(text).toString('base64url')
  for (const bad of ['', 'abc', encodeCursor(0), encode('null'), encode('[]'), encode('5'), encode('{"v":1,"before":1.5}'), Buffer.from('{"v":2,"before":5}').toString('base64url'), Buffer.from('{"v":1,"before":"5"}').toString('base64url')]) {
    t.throws(() => decodeCursor(bad), { code: 'AUDIT_INVALID_CURSOR', statusCode: 400 }, JSON.stringify(bad))
  }
})

t.test('a filter is narrowed to the caller\'s projects', async (t) => {
  t.same(scopeOf({ projectIds: '*' }), { projects: '*' })
  t.same(scopeOf({ projectIds: ['a', 'b', 'a'] }), { projects: ['a', 'b'] })
  t.same(scopeOf({ projectIds: ['a', 'b'], projectId: 'b' }), { projects: ['b'] })
  t.equal(scopeOf({ projectIds: ['a'], projectId: 'b' }), null, 'a project outside the claim shows nothing')
  t.equal(scopeOf({ projectIds: [] }), null, 'an empty claim shows nothing')
  t.same(scopeOf({ projectIds: '*', since: '2025-01-01', until: '2025-01-02T00:00:00+02:00' }),
    { projects: '*', sinceMs: Date.UTC(2025, 0, 1), untilMs: Date.UTC(2025, 0, 1, 22) })
  t.throws(() => scopeOf({ projectIds: '*', since: 'last week' }), { code: 'AUDIT_INVALID_FILTER' })
  t.throws(() => scopeOf({ projectIds: '*', outcome: 'maybe' as never }), { code: 'AUDIT_INVALID_FILTER' })
})
