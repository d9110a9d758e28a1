import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { summariseProfile, type CpuProfile } from '../../bench/profile-summary.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { PG_URL } from '../helpers/audit-fixtures.ts'

const run = promisify(execFile)
const BENCH = join(import.meta.dirname, '..', '..', 'bench', 'run.ts')

// Keeps `npm run bench` from rotting: every target, one second each, two connections, a small
// seeded trail instead of a million entries. No timing is asserted: only that every request
// was a real, successful cut and that the report is complete.
t.test('npm run bench: every target, zero failed requests, a complete JSON report', async (t) => {
  const out = tempDir(t)
  const cache = tempDir(t)
  const { stdout } = await run(process.execPath, [
    BENCH, '--duration', '1', '--rounds', '2', '--warmup', '0', '--connections', '2', '--rate', '20', '--pin', 'off',
    '--only', 'direct,bare,sqlite,sqlite-traced,postgres,sqlite-seeded', '--entries', '300', '--queries', '5', '--probe-entries', '40',
    '--pg-url', PG_URL, '--cache', cache, '--out', out
  ], { timeout: 110_000, maxBuffer: 16 * 1024 * 1024 })
  t.match(stdout, /livecut-sqlite \/ bare: [\d.]+× req\/s/)
  t.match(stdout, /livecut-sqlite-traced \/ livecut-sqlite: [\d.]+× req\/s/, 'tracing on beside tracing off')
  t.match(stdout, /OTLP sink: [1-9]\d* exports/, 'the traced target\'s spans reached the sink')

  const files = readdirSync(out).filter((name) => name.endsWith('.json'))
  t.equal(files.length, 1, 'one JSON report')
  const report = JSON.parse(readFileSync(join(out, files[0] as string), 'utf8'))
  t.equal(report.ok, true)
  t.same(report.problems, [])
  t.equal(report.machine.nproc > 0, true)
  t.same(report.appendProbes.map((probe: { ids: string, entries: number }) => [probe.ids, probe.entries]), [['v7', 40], ['v4', 40]],
    'the SQLite store alone, with time-ordered and with random ids')
  for (const probe of report.appendProbes) t.ok(probe.entriesPerSecond > 0 && probe.cpuMicrosPerEntry > 0, `${probe.ids}: rate and CPU reported`)
  const [v7] = report.appendProbes
  t.match(v7.floor, { records: 80, recordsPerTransaction: 50, cpuMicrosPerEntry: Number, ratio: Number }, 'beside the floor: a raw insert of the same 80 rows in the same run')
  t.ok(v7.floor.cpuMicrosPerEntry > 0 && Math.abs(v7.floor.ratio - v7.cpuMicrosPerEntry / v7.floor.cpuMicrosPerEntry) < 1e-9, 'the ratio is store over floor')
  t.match(stdout, /floor: raw INSERT of the same 80 rows, 50 a transaction: \d+ µs CPU per entry; the store costs [\d.]+× the floor/)
  t.same(report.targets.map((target: { name: string }) => target.name),
    ['direct', 'bare', 'livecut-sqlite', 'livecut-sqlite-traced', 'livecut-postgres', 'livecut-sqlite-seeded'], 'every target, PostgreSQL included (never skipped)')

  for (const target of report.targets) {
    t.equal(target.skipped, undefined, `${target.name} ran`)
    t.equal(target.saturatedRounds.length, 2, `${target.name}: saturated in each round`)
    t.ok(target.saturatedRounds.some((run: { requestsPerSecond: number }) => run.requestsPerSecond === target.saturated.requestsPerSecond),
      `${target.name}: the table's run is one of the rounds`)
    t.equal(target.fixedRateRounds.length, 2, `${target.name}: at the fixed rate in each round`)
    t.ok(target.fixedRateRounds.some((run: { latencyMs: { p99: number } }) => run.latencyMs.p99 === target.fixedRate.latencyMs.p99),
      `${target.name}: the fixed-rate table's run is one of the rounds`)
    for (const result of [...target.saturatedRounds, ...target.fixedRateRounds]) {
      const phase = target.saturatedRounds.includes(result) ? 'saturated' : 'fixed rate'
      t.ok(result.responses > 0, `${target.name} ${phase}: answered`)
      t.equal(result.errors, 0, `${target.name} ${phase}: no connection error`)
      t.equal(result.timeouts, 0, `${target.name} ${phase}: no timeout`)
      t.equal(result.non2xx, 0, `${target.name} ${phase}: no status but 200`)
      t.same(Object.keys(result.statusCodes), ['200'])
      t.ok(result.cutsAtPlatform >= result.statusCodes['200'], `${target.name} ${phase}: each 200 stopped a video at the platform`)
      for (const key of ['p50', 'p97_5', 'p99']) t.type(result.latencyMs[key], 'number')
    }
    t.type(target.peakRssMiB, 'number', `${target.name}: peak RSS`)
    if (target.name.startsWith('livecut')) {
      const answered = [...target.saturatedRounds, ...target.fixedRateRounds].reduce((sum: number, run: { statusCodes: Record<string, number> }) => sum + (run.statusCodes['200'] ?? 0), 0)
      t.ok(target.auditedSucceeded >= answered, `${target.name}: each 200 of every round audited as succeeded`)
    }
  }

  const seeded = report.targets.find((target: { name: string }) => target.name === 'livecut-sqlite-seeded')
  t.same(seeded.auditQueries.map((query: { kind: string }) => query.kind),
    ['by project', 'by video', 'by actor', 'by project, cursor page at a random depth', 'by actor and outcome'])
  for (const query of seeded.auditQueries) {
    t.equal(query.problem, null, `${query.kind}: every query answered 200`)
    t.equal(query.queries, 5)
  }
  // Every filter combination straight on the database, each with the plan it used.
  t.equal(seeded.reviewCombinations.length, 64, 'every combination of five filters, over every project and two claims')
  for (const combination of seeded.reviewCombinations) {
    t.equal(combination.failed, 0, `${combination.kind}: every query answered`)
    t.ok(combination.queries === 5 && combination.plan.some((line: string) => /audit_(records|unknown)_by_/.test(line)), `${combination.kind}: 5 queries, a plan along an index`)
  }
  // Exports over HTTP: each filter in both formats, read to its end on so small a trail, the same rows in each.
  t.same(seeded.exports.map((e: { kind: string, format: string }) => `${e.kind} ${e.format}`), [
    'everything', 'the largest project', 'a project', 'outcome unknown', 'actor and outcome failed (selective)', 'video (selective)'
  ].flatMap((kind) => [`${kind} ndjson`, `${kind} csv`]))
  for (const e of seeded.exports) {
    t.match(e, { problem: null, complete: true, firstByteMs: Number, rowsPerSecond: Number }, `${e.kind} ${e.format}: read to its end`)
  }
  const everything = seeded.exports.filter((e: { kind: string }) => e.kind === 'everything')
  t.ok(everything[0].rows >= 300 && everything[0].rows === everything[1].rows, 'every entry, in NDJSON and in CSV')
  // Verification on the seeded trail: every record checked by each way of verifying it, the cuts loaded before and during.
  const { verification } = seeded
  const records = verification.oneThread.records
  t.ok(records >= 300, 'the one-thread walk checked the seeded trail')
  for (const run of [verification.oneThread, verification.cli, verification.http]) {
    t.equal(run.problem, null, 'verified')
    t.equal(run.records, records, 'the same records')
    t.ok(run.recordsPerSecond > 0)
  }
  t.equal(verification.cutsAtFixedRate.problem, null, 'cuts before and during three verifies all answered 200')
  t.ok(verification.cutsAtFixedRate.before.p99 > 0 && verification.cutsAtFixedRate.during.p99 > 0, 'both latencies reported')
  for (const ratio of Object.values(report.ratios) as Array<{ median: number, rounds: number[] }>) {
    t.equal(ratio.rounds.length, 2, 'a ratio per round')
    t.ok(ratio.rounds.includes(ratio.median), 'the median is one of them')
  }
  t.same(Object.keys(report.ratios).sort(), [
    'livecut-postgres / bare', 'livecut-postgres / direct', 'livecut-sqlite / bare', 'livecut-sqlite / direct',
    'livecut-sqlite-seeded / bare', 'livecut-sqlite-seeded / direct',
    'livecut-sqlite-traced / bare', 'livecut-sqlite-traced / direct', 'livecut-sqlite-traced / livecut-sqlite'
  ])

  // The seeded trail (kept in the cache for later runs) is a chain the service's own verification accepts.
  const store = await openAuditStore(`sqlite:${join(cache, 'audit-300-seed1.db')}`, { readOnly: true })
  t.teardown(() => store.close())
  const verified = await store.verify()
  t.equal(verified.ok, true)
  t.ok(verified.checked > 300, 'intent and final records of 300 entries')
})

t.test('profile summary: self time goes to the sampled function, total time to each src/ caller once', async (t) => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0, columnNumber: 0 })
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
      { id: 2, callFrame: frame('handler', 'file:///app/src/routes/cut/cut-route.ts'), children: [3] },
      { id: 3, callFrame: frame('append', 'file:///app/src/audit/sqlite-audit-store.ts'), children: [4] },
      { id: 4, callFrame: frame('canonicalize', 'file:///app/node_modules/canonicalize/lib/canonicalize.js') },
      { id: 5, callFrame: frame('(idle)', '') }
    ],
    startTime: 0,
    endTime: 4000,
    // One sample each 1000 µs: append, canonicalize, canonicalize, idle.
    samples: [3, 4, 4, 5],
    timeDeltas: [0, 1000, 1000, 1000]
  }
  const summary = summariseProfile(profile)
  t.equal(summary.idlePercent, 25)
  t.same(summary.selfByPlace.map((row) => [row.name, row.percent]), [['canonicalize', 66.7], ['src/audit/sqlite-audit-store.ts', 33.3]])
  // Both src functions are on the stack of every busy sample.
  t.same(summary.totalBySrcFunction.map((row) => [row.name, row.percent]).sort(), [['append', 100], ['handler', 100]])
})
