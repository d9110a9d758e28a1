import { Readable } from 'node:stream'
import t from 'tap'
import { CSV_COLUMNS, csvCell, csvHeaderLine, csvLine, exportChunks, ndjsonLine } from '../../src/audit/audit-export-format.ts'
import { makeEntry, parseCsv } from '../helpers/audit-fixtures.ts'

t.test('csv cells are quoted only when they must be, per RFC 4180', async (t) => {
  t.equal(csvCell('plain'), 'plain')
  t.equal(csvCell('a,b'), '"a,b"')
  t.equal(csvCell('say "hi"'), '"say ""hi"""')
  t.equal(csvCell('two\nlines'), '"two\nlines"')
  t.equal(csvCell('cr\ronly'), '"cr\ronly"')
  t.equal(csvCell(null), '')
  t.equal(csvCell(undefined), '')
  t.equal(csvCell(0), '0')
  t.equal(csvCell(-5), '-5', 'numbers are never altered')
})

t.test('csv cells that a spreadsheet would run as a formula are defused', async (t) => {
  for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) t.equal(csvCell(text), `'${text}`, JSON.stringify(text))
  t.equal(csvCell('=HYPERLINK("x","y")'), '"\'=HYPERLINK(""x"",""y"")"')
})

t.test('a csv line has every column, nested fields flattened, and reads back', async (t) => {
  const entry = makeEntry(1, { upstream: { attempts: 2, statuses: [503, 200], latencyMs: 40 } })
  const [header, row] = parseCsv(csvHeaderLine() + csvLine(entry))
  t.same(header, CSV_COLUMNS.map(([name]) => name))
  const cell = (name: string): string | undefined => row?.[header?.indexOf(name) as number]
  t.equal(cell('id'), 'entry-1')
  t.equal(cell('actor.sub'), 'alice')
  t.equal(cell('request.cut.endMs'), '61000')
  t.equal(cell('upstream.statuses'), '[503,200]')
  t.equal(cell('upstream.attempts'), '2')
  t.match(csvLine(entry), /\r\n$/, 'CRLF line end')
  const bare = parseCsv(csvLine(makeEntry(2, { upstream: null, request: { cut: null, visibility: null, idempotencyKey: null } })))[0]
  t.equal(bare?.length, CSV_COLUMNS.length, 'absent nested objects give empty cells')
})

t.test('ndjson is one JSON document per line', async (t) => {
  const entry = makeEntry(1, { actor: { sub: 'a', clientId: null, ip: '::1', userAgent: 'line\nbreak' } })
  const line = ndjsonLine(entry)
  t.equal(line.split('\n').length, 2, 'a newline inside a value is escaped')
  t.same(JSON.parse(line), entry)
})

t.test('export chunks: the header first, then every entry, pulled lazily', async (t) => {
  const entries = Array.from({ length: 250 }, (_, i) => makeEntry(i))
  let pulled = 0
  async function * source () { for (const entry of entries) { pulled++; yield entry } }
  const chunks = exportChunks(source(), 'csv')
  const first = await chunks.next()
  t.ok(pulled <= 100, 'the first chunk does not wait for the whole export')
  let text = first.value as string
  for await (const chunk of chunks) text += chunk
  const rows = parseCsv(text)
  t.equal(rows.length, 251)
  t.same(rows.slice(1).map((row) => row[0]), entries.map((e) => e.id))
  const ndjson = await Readable.from(exportChunks(source(), 'ndjson')).toArray()
  t.equal(ndjson.join('').trimEnd().split('\n').length, 250)
  t.same(await Readable.from(exportChunks((async function * () {})(), 'csv')).toArray(), [csvHeaderLine()], 'no entries: the header alone')
  t.same(await Readable.from(exportChunks((async function * () {})(), 'ndjson')).toArray(), [], 'no entries: nothing')
})
