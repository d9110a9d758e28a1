// CSV injection: every cell a spreadsheet would run as a formula — OWASP's list (= + - @ TAB CR),
// plus LF, NUL and the full-width forms ＝ ＋ － ＠ that spreadsheets fold to their ASCII
// forms — is sent with a leading `'`; the export is a download (Content-Disposition:
// attachment). Over the real app: token subjects and rejected path ids (stored percent-decoded)
// are what a caller controls in the trail.
import t from 'tap'
import { csvCell } from '../../src/audit/audit-export-format.ts'
import { parseCsv } from '../helpers/audit-fixtures.ts'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

const FORMULA_STARTS = ['=', '+', '-', '@', '\t', '\r', '\n', '\0', '＝', '＋', '－', '＠']

t.test('every formula-starting character is defused, and only at the start', async (t) => {
  for (const c of FORMULA_STARTS) {
    const cell = csvCell(`${c}HYPERLINK("x")`)
    const [[read]] = parseCsv(`${cell}\r\n`) as [[string]]
    t.equal(read, `'${c}HYPERLINK("x")`, `${JSON.stringify(c)}: read back with a leading '`)
    t.equal(csvCell(`a${c}b`).includes('\''), false, `${JSON.stringify(c)} inside a cell is left alone`)
  }
  t.equal(csvCell('plain'), 'plain')
  t.equal(csvCell(-5), '-5', 'numbers are never altered')
})

t.test('subjects and rejected path ids reach the CSV export defused, as a download', async (t) => {
  const { app } = await startService(t)
  const cases = FORMULA_STARTS.map((c, i) => ({ c, sub: `${c}cmd|' /C calc'!A${i}`, videoId: `${c}video-${i}` }))
  for (const [i, { sub, videoId }] of cases.entries()) {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/projects/proj-1/live-videos/${encodeURIComponent(videoId)}/cut`,
      headers: { authorization: `Bearer ${hsToken({ sub })}`, 'content-type': 'application/json', 'x-request-id': `csv-${i}` },
      payload: '{}'
    })
    t.equal(response.statusCode, 400, `${JSON.stringify(videoId)} is not a valid video id`)
  }

  const exported = await app.inject({
    method: 'GET',
    url: '/v1/audit/events',
    headers: { authorization: `Bearer ${hsToken({ scope: 'audit:read', projects: '*' })}`, accept: 'text/csv' }
  })
  t.equal(exported.statusCode, 200)
  t.match(exported.headers['content-type'], /^text\/csv/)
  t.match(exported.headers['content-disposition'], /^attachment; filename="[\w.-]+\.csv"$/, 'a download with a file name')
  const [header = [], ...rows] = parseCsv(exported.body)
  const column = (name: string): number => header.indexOf(name)
  const byRequest = new Map(rows.map((row) => [row[column('requestId')], row]))
  for (const [i, { c, sub, videoId }] of cases.entries()) {
    const row = byRequest.get(`csv-${i}`)
    t.equal(row?.[column('actor.sub')], `'${sub}`, `${JSON.stringify(c)}: the subject cell`)
    t.equal(row?.[column('videoId')], `'${videoId}`, `${JSON.stringify(c)}: the video id cell`)
  }
})
