import t from 'tap'
import type { PreparedRecord } from '../../src/audit/audit-chain.ts'
import { prepareRecord } from '../../src/audit/audit-chain.ts'
import { GroupCommit } from '../../src/audit/group-commit.ts'
import { WriteHealth } from '../../src/audit/write-health.ts'
import { BACKENDS, makeEntry, setUpTrail } from '../helpers/audit-fixtures.ts'

const recordOf = (n: number): PreparedRecord => prepareRecord(makeEntry(n), true)

t.test('appends that arrive together share one batch, and resolve after it is written', async (t) => {
  const batches: string[][] = []
  const commit = new GroupCommit(async (records) => { batches.push(records.map((record) => record.entryId)) })
  await Promise.all([1, 2, 3].map(async (n) => { await commit.append(recordOf(n)) }))
  t.same(batches, [['entry-1', 'entry-2', 'entry-3']], 'one batch, in order')
  await commit.append(recordOf(4))
  t.same(batches.at(-1), ['entry-4'], 'a later append gets a batch of its own')
})

t.test('appends arriving while a batch is written form the next batch', async (t) => {
  const batches: string[][] = []
  let release!: () => void
  const firstWritten = new Promise<void>((resolve) => { release = resolve })
  const commit = new GroupCommit(async (records) => {
    batches.push(records.map((record) => record.entryId))
    if (batches.length === 1) await firstWritten
  })
  const first = commit.append(recordOf(1))
  await new Promise((resolve) => setImmediate(resolve))
  const later = [commit.append(recordOf(2)), commit.append(recordOf(3))]
  release()
  await Promise.all([first, ...later])
  t.same(batches, [['entry-1'], ['entry-2', 'entry-3']])
})

t.test('a record that breaks its batch fails alone; the others are written', async (t) => {
  const written: string[] = []
  const commit = new GroupCommit(async (records) => {
    if (records.some((record) => record.entryId === 'entry-2')) {
      throw Object.assign(new Error('entry entry-2 already has its final record'), { code: 'AUDIT_DUPLICATE_RECORD' })
    }
    written.push(...records.map((record) => record.entryId))
  })
  const results = await Promise.allSettled([1, 2, 3].map(async (n) => { await commit.append(recordOf(n)) }))
  t.same(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.same(written, ['entry-1', 'entry-3'])
})

t.test('a store failure fails the whole batch at once, without retrying each record', async (t) => {
  let calls = 0
  const commit = new GroupCommit(async () => { calls++; throw new Error('database is locked') })
  const results = await Promise.allSettled([1, 2, 3].map(async (n) => { await commit.append(recordOf(n)) }))
  t.same(results.map((result) => result.status), ['rejected', 'rejected', 'rejected'])
  t.equal(calls, 1, 'one attempt, not one per record')
})

t.test('a database that stops answering: each append fails at its deadline, each stuck batch is abandoned, and the next one starts', async (t) => {
  const batches: string[][] = []
  const signals: AbortSignal[] = []
  let silent = true
  const commit = new GroupCommit(async (records, signal) => {
    batches.push(records.map((record) => record.entryId))
    signals.push(signal)
    // A silent database: the write never settles, whatever happens to it.
    if (silent) await new Promise(() => {})
  }, { deadlineMs: 200 })
  const stuck = commit.append(recordOf(1))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const queued = commit.append(recordOf(2))
  const results = await Promise.allSettled([stuck, queued])
  for (const result of results) {
    t.equal(result.status, 'rejected', 'failed, instead of waiting on the stuck batch')
    t.match((result as PromiseRejectedResult).reason, { code: 'AUDIT_STORE_NOT_WRITABLE', statusCode: 503 })
  }
  t.same(batches, [['entry-1'], ['entry-2']], 'the queued append went into the next batch, once the first was abandoned')
  t.ok(signals[0]?.aborted, 'the abandoned batch was told to give up its connection')
  silent = false
  await commit.append(recordOf(3))
  t.same(batches.at(-1), ['entry-3'], 'once the database answers, appends are written again')
})

t.test('the health record hears each batch the store decided, not a record refused alone; only an append vouches', async (t) => {
  const health = new WriteHealth()
  let failing = false
  const commit = new GroupCommit(async (records) => {
    if (failing) throw new Error('disk I/O error')
    if (records[0]?.entryId === 'entry-9') throw Object.assign(new Error('duplicate'), { code: 'AUDIT_DUPLICATE_RECORD' })
  }, { health })
  let probes = 0
  const probe = async (): Promise<void> => { probes++ }
  await health.check(probe)
  t.equal(probes, 1, 'nothing appended yet: a probe')
  await commit.append(recordOf(1))
  await health.check(probe)
  t.equal(probes, 1, 'a fresh append needs no probe')
  await t.rejects(commit.append(recordOf(9)))
  await health.check(probe)
  t.equal(probes, 1, 'a duplicate says nothing about the store')
  failing = true
  await t.rejects(commit.append(recordOf(2)))
  await t.rejects(health.check(async () => { throw new Error('still failing') }), /still failing/, 'after a failed append, the probe decides')
  await health.check(probe)
  await health.check(probe)
  t.equal(probes, 3, 'a probe that succeeded does not vouch for the next check')
})

for (const backend of BACKENDS) {
  t.test(`${backend}: concurrent appends with a duplicate among them`, async (t) => {
    const { store } = await setUpTrail(t, backend)
    await store.append(makeEntry(5), true)
    const results = await Promise.allSettled(Array.from({ length: 40 }, async (_, n) => { await store.append(makeEntry(n + 1), true) }))
    const rejected = results.flatMap((result, n) => result.status === 'rejected' ? [n + 1] : [])
    t.same(rejected, [5], 'only the second final of entry-5 is refused')
    t.match(await store.verify(), { ok: true, checked: 40 }, 'the chain holds every other record')
  })
}
