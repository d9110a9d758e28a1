import { writeFileSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import t, { type Test } from 'tap'
import { createCheckpointSigner, generateSigningKey } from '../../src/audit/audit-checkpoint.ts'
import { FileSync } from '../../src/audit/file-sync.ts'
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.ts'
import { makeEntry } from '../helpers/audit-fixtures.ts'
import { tempDir } from '../helpers/temp-dir.ts'

// SPEC: a record is on disk when its append resolves. The SQLite store commits with
// synchronous=NORMAL and then syncs the WAL itself, off the event loop; these tests hold that
// sync (every FileHandle's datasync, in this process) and watch what waits for it.

interface HeldSyncs {
  /** The descriptors of the datasyncs started so far. */
  started: string[]
  /** Resolves once `n` datasyncs have started. */
  whenStarted: (n: number) => Promise<void>
  /** Lets every held datasync, and every later one, run. */
  release: () => void
}

function holdDatasyncs (t: Test, handleProto: { datasync: (this: FileHandle) => Promise<void> }): HeldSyncs {
  const original = handleProto.datasync
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const started: string[] = []
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const whenStarted = async (n: number): Promise<void> => {
    if (started.length >= n) return
    await new Promise<void>((resolve) => { waiters.push({ n, resolve }) })
  }
  handleProto.datasync = async function (this: FileHandle) {
    started.push(String(this.fd))
    for (const waiter of waiters) if (started.length >= waiter.n) waiter.resolve()
    await released
    await original.call(this)
  }
  t.teardown(() => { handleProto.datasync = original })
  return { started, whenStarted, release }
}

async function fileHandlePrototype (dir: string): Promise<{ datasync: (this: FileHandle) => Promise<void> }> {
  const probe = join(dir, 'probe')
  writeFileSync(probe, '')
  const handle = await open(probe, 'r')
  await handle.close()
  return Object.getPrototypeOf(handle) as { datasync: (this: FileHandle) => Promise<void> }
}

const settledYet = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false
  void promise.then(() => { settled = true }, () => { settled = true })
  // Several turns of the event loop: a resolved append would have settled by now.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  return settled
}

t.test('an append resolves only after the WAL sync that follows its commit; the event loop runs meanwhile', async (t) => {
  const dir = tempDir(t)
  const location = join(dir, 'audit.db')
  const store = new SqliteAuditStore(location)
  t.teardown(async () => { await store.close() })
  t.equal((new DatabaseSync(location).prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')

  const held = holdDatasyncs(t, await fileHandlePrototype(dir))
  const append = store.append(makeEntry(1), true)
  await held.whenStarted(1)
  t.notOk(await settledYet(append), 'not resolved while the sync is held')
  t.equal(held.started.length, 1, 'one datasync was started, after the commit')
  const reader = new DatabaseSync(location, { readOnly: true })
  t.equal((reader.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n, 1, 'the record is committed, waiting only for the sync')
  reader.close()
  let timerRan = false
  await new Promise<void>((resolve) => setTimeout(() => { timerRan = true; resolve() }, 1))
  t.ok(timerRan, 'timers run while the sync is held')

  held.release()
  await append
  t.pass('resolved once the sync completed')
})

t.test('a resolution and a checkpoint also wait for the WAL sync', async (t) => {
  const dir = tempDir(t)
  const store = new SqliteAuditStore(join(dir, 'audit.db'))
  t.teardown(async () => { await store.close() })
  await store.append({ ...makeEntry(1), outcome: 'unknown' }, true)
  const held = holdDatasyncs(t, await fileHandlePrototype(dir))
  const resolution = store.resolve(makeEntry(1).id, { outcome: 'succeeded', note: 'checked on the platform', videoPublicId: null, by: 'auditor-1', time: new Date().toISOString() }, '*')
  await held.whenStarted(1)
  t.notOk(await settledYet(resolution), 'the resolution waits')
  const signer = createCheckpointSigner(generateSigningKey())
  const checkpoint = store.appendCheckpoint((head) => signer.sign(head, Date.now()))
  await held.whenStarted(1)
  t.notOk(await settledYet(checkpoint), 'the checkpoint waits')
  held.release()
  await resolution
  t.match(await checkpoint, { seq: 2 })
  t.equal(held.started.length, 2, 'the checkpoint had a sync of its own, after the resolution\'s')
})

t.test('syncs are coalesced: one runs at a time, and callers who ask meanwhile share the next', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'data')
  writeFileSync(path, 'x')
  const held = holdDatasyncs(t, await fileHandlePrototype(dir))
  const sync = new FileSync(path)
  t.teardown(async () => { await sync.close() })
  const first = sync.sync()
  await held.whenStarted(1)
  const later = [sync.sync(), sync.sync(), sync.sync()]
  t.notOk(await settledYet(Promise.race(later)), 'later callers wait')
  t.equal(held.started.length, 1, 'only the first sync runs while it is held')
  held.release()
  await Promise.all([first, ...later])
  t.equal(held.started.length, 2, 'the three later callers shared one sync after it')
})

t.test('a sync error reaches the caller, and the next sync is tried again', async (t) => {
  const dir = tempDir(t)
  const sync = new FileSync(join(dir, 'missing'))
  t.teardown(async () => { await sync.close() })
  await t.rejects(sync.sync(), { code: 'ENOENT' })
  writeFileSync(join(dir, 'missing'), 'now here')
  await t.resolves(sync.sync(), 'opened once the file exists')
})
