import { execFile } from 'node:child_process'
import { copyFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { CSV_COLUMNS } from '../../src/audit/audit-export-format.ts'
import { type CliResult, cliInProcess } from '../helpers/audit-cli.ts'
import { BACKENDS, intentOf, makeEntry, parseCsv, record, setUpTrail, TrailModel } from '../helpers/audit-fixtures.ts'
import { realignUnknownEntries } from '../helpers/verification.ts'

// The command line as an operator runs it: `node src/cli/audit.ts …`, exit codes and output.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const execFileAsync = promisify(execFile)

async function cli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['src/cli/audit.ts', ...args], {
      cwd: ROOT, env: { ...process.env, AUDIT_STORE_URL: '', ...env }, maxBuffer: 64 * 1024 * 1024
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number, stdout: string, stderr: string }
    return { code, stdout, stderr }
  }
}

/** A handful of entries with every kind of awkward value a client can put in one. */
function entries (): Array<[AuditEntry, boolean]> {
  const tricky = makeEntry(3, {
    projectId: 'proj-b',
    actor: { sub: 'bob', clientId: null, ip: '2001:db8::1', userAgent: 'Agent, "quoted"\r\nsecond line' },
    request: { cut: { startMs: null, endMs: null, startTime: '2025-01-01T10:00:00.000Z', endTime: '2025-01-01T10:05:00.000Z' }, visibility: 'public', idempotencyKey: '=HYPERLINK("http://x")' },
    outcome: 'failed',
    status: 503,
    reason: 'upstream_unavailable',
    upstream: { attempts: 4, statuses: [503, 503, 503, 503], latencyMs: 3100 },
    videoPublicId: null
  })
  return [
    [intentOf(makeEntry(1)), false],
    [makeEntry(2, { outcome: 'rejected', status: 400, reason: 'validation', projectId: null, videoId: null, actor: { sub: null, clientId: null, ip: '192.0.2.9', userAgent: null }, upstream: null, videoPublicId: null }), true],
    [tricky, true],
    [makeEntry(1), true],
    [intentOf(makeEntry(4, { videoId: 'video-2' })), false]
  ]
}

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await setUpTrail(t, backend)
    const model = new TrailModel()
    for (const [entry, final] of entries()) await record(trail.store, model, entry, final)

    t.test('verify: exit 0 on an intact chain, with its head', async (t) => {
      const result = await cli(['verify', '--store', trail.url])
      t.equal(result.code, 0, result.stderr)
      t.match(result.stdout, /^ok: 5 records verified\nhead: 5:[0-9a-f]{64}\n$/)
      const json = await cli(['verify', '--store', trail.url, '--json'])
      t.match(JSON.parse(json.stdout), { ok: true, checked: 5, head: { seq: 5 } })
      const head = /head: (\S+)/.exec(result.stdout)?.[1] as string
      t.equal((await cli(['verify', '--store', trail.url, '--expect-head', head])).code, 0, 'the head just printed checks out')
    })

    t.test('export ndjson: one entry per line, each as readers see it', async (t) => {
      const result = await cli(['export', '--store', trail.url, '--format', 'ndjson'])
      t.equal(result.code, 0, result.stderr)
      t.match(result.stdout, /\n$/)
      const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry)
      t.same(lines, model.entries())
      const byDefault = await cli(['export'], { AUDIT_STORE_URL: trail.url })
      t.equal(byDefault.stdout, result.stdout, 'ndjson and AUDIT_STORE_URL are the defaults')
    })

    t.test('export csv: a header, one quoted-where-needed row per entry', async (t) => {
      const result = await cli(['export', '--store', trail.url, '--format', 'csv'])
      t.equal(result.code, 0, result.stderr)
      const [header, ...rows] = parseCsv(result.stdout)
      t.same(header, CSV_COLUMNS.map(([name]) => name))
      t.same(rows.map((row) => row[0]), model.ids(), 'ids, newest first')
      t.ok(rows.every((row) => row.length === header?.length), 'every row has every column')
      const cell = (id: string, column: string): string | undefined => rows.find((row) => row[0] === id)?.[header?.indexOf(column) as number]
      t.equal(cell('entry-3', 'actor.userAgent'), 'Agent, "quoted"\r\nsecond line', 'commas, quotes and line breaks survive')
      t.equal(cell('entry-3', 'request.idempotencyKey'), '\'=HYPERLINK("http://x")', 'a formula is defused')
      t.equal(cell('entry-3', 'upstream.statuses'), '[503,503,503,503]')
      t.equal(cell('entry-3', 'request.cut.startTime'), '2025-01-01T10:00:00.000Z')
      t.equal(cell('entry-2', 'actor.sub'), '', 'null is an empty cell')
      t.equal(cell('entry-4', 'outcome'), 'unknown')
    })

    t.test('export filters', async (t) => {
      const ids = async (args: string[]): Promise<string[]> => {
        const result = await cliInProcess(['export', '--store', trail.url, ...args])
        t.equal(result.code, 0, result.stderr)
        return result.stdout.trimEnd().split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as AuditEntry).id)
      }
      const cases: Array<[string[], string[]]> = [
        [['--project', 'proj-b'], ['entry-3']],
        [['--project', 'proj-a', '--video', 'video-2'], ['entry-4']],
        [['--actor', 'bob'], ['entry-3']],
        [['--outcome', 'unknown'], ['entry-4']],
        [['--since', makeEntry(2).time, '--until', makeEntry(4).time], ['entry-3', 'entry-2']],
        [['--project', 'nobody'], []]
      ]
      const found = await Promise.all(cases.map(async ([args]) => await ids(args)))
      cases.forEach(([args, expected], i) => t.same(found[i], expected, args.join(' ')))
    })

    t.test('verify: exit 1 naming the first bad record after a hand edit, and after a cut at the end', async (t) => {
      const head = /head: (\S+)/.exec((await cli(['verify', '--store', trail.url])).stdout)?.[1] as string
      await trail.raw.disableGuards()
      await trail.raw.exec(`UPDATE ${trail.raw.table} SET body = replace(body, '"failed"', '"succeeded"') WHERE seq = 3`)
      const result = await cli(['verify', '--store', trail.url])
      t.equal(result.code, 1)
      t.match(result.stdout, /^FAILED at record 3 \(entry entry-3\): hash does not match/)
      t.match(result.stdout, /2 records verified before it/)
      t.match(JSON.parse((await cli(['verify', '--store', trail.url, '--json'])).stdout), { ok: false, firstBad: { seq: 3, entryId: 'entry-3' } })

      await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq >= 3`)
      await realignUnknownEntries(trail)
      t.equal((await cli(['verify', '--store', trail.url])).code, 0, 'records 1–2 alone form an intact chain')
      const cut = await cli(['verify', '--store', trail.url, '--expect-head', head])
      t.equal(cut.code, 1, 'but not the chain whose head was recorded')
      t.match(cut.stdout, /FAILED at record 3: the chain ends at record 2, before the recorded head 5/)
    })
  })
}

t.test('usage and store errors exit 2, and create nothing', async (t) => {
  const trail = await setUpTrail(t, 'sqlite')
  const missing = join(dirname(trail.url.slice('sqlite:'.length)), 'missing.db')
  const spawned = await cli(['verify', '--store', `sqlite:${missing}`])
  t.equal(spawned.code, 2)
  t.match(spawned.stderr, /no audit database/)
  t.notOk(existsSync(missing), 'a mistyped path is not created')
  const bad = await cliInProcess(['export', '--store', trail.url, '--since', 'yesterday'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /since "yesterday"/)
  for (const args of [['export', '--store', trail.url, '--format', 'xml'], ['frobnicate'], [], ['verify', '--bogus'], ['verify', 'extra'],
    ['verify', '--store', trail.url, '--expect-head', 'nonsense'], ['verify', '--store', 'mysql://x']]) {
    const result = await cliInProcess(args)
    t.equal(result.code, 2, `${args.join(' ')}: ${result.stderr.split('\n')[0]}`)
  }
  t.match((await cliInProcess(['--help'])).stdout, /usage:/)
})

t.test('sqlite: the CLI works on a copy of the database, taken with the service stopped', async (t) => {
  const trail = await setUpTrail(t, 'sqlite')
  for (let n = 1; n <= 20; n++) await trail.store.append(makeEntry(n), true)
  await trail.store.close()
  const file = trail.url.slice('sqlite:'.length)
  const copy = join(dirname(file), 'copy.db')
  copyFileSync(file, copy)
  const verify = await cli(['verify', '--store', `sqlite:${copy}`])
  t.equal(verify.code, 0, verify.stderr)
  t.match(verify.stdout, /ok: 20 records verified/)
  const csv = await cli(['export', '--store', `sqlite:${copy}`, '--format', 'csv'])
  t.equal(parseCsv(csv.stdout).length, 21)
})

t.test('export --resolved true|false: entries whose unknown outcome was resolved, with the resolution, or not', async (t) => {
  const RESOLUTION = { outcome: 'failed', note: 'No VOD at the platform.', videoPublicId: null, by: 'carol', time: '2025-02-01T10:00:00.000Z' } as const
  const trail = await setUpTrail(t, 'sqlite')
  await trail.store.append(intentOf(makeEntry(1)), false)
  await trail.store.append(intentOf(makeEntry(2)), false)
  await trail.store.resolve('entry-2', RESOLUTION, '*')
  const resolved = await cliInProcess(['export', '--store', trail.url, '--resolved', 'true'])
  t.equal(resolved.code, 0)
  t.same(resolved.stdout.trim().split('\n').map((line) => JSON.parse(line) as AuditEntry), [{ ...intentOf(makeEntry(2)), resolution: RESOLUTION }])
  t.same((await cliInProcess(['export', '--store', trail.url, '--resolved', 'false'])).stdout.trim().split('\n').map((line) => (JSON.parse(line) as AuditEntry).id), ['entry-1'])
  const usage = await cliInProcess(['export', '--store', trail.url, '--resolved', 'yes'])
  t.equal(usage.code, 2)
  t.match(usage.stderr, /--resolved must be true or false/)
  t.match((await cliInProcess(['verify', '--store', trail.url])).stdout, /ok: 3 records verified/)
})
