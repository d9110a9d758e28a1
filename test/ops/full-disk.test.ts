import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startService } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

// SPEC, Faults: on a full disk a cut that cannot be recorded is answered 503 without calling the
// platform, /readyz says 503 while it lasts, and the service recovers once there is room again.
// The SQLite trail lives on a 4 MiB tmpfs of the test's own, filled with a file.

/** A fresh 4 MiB tmpfs, unmounted at teardown. Mounting needs root: without it the test fails, saying why. */
function smallDisk (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'livecut-disk-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`a full disk is simulated with a 4 MiB tmpfs, and mounting one failed (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}): run the tests as root on a machine that allows mount`)
  }
  t.teardown(() => {
    execFileSync('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** Fills the file system to the last byte, as a runaway log would; returns the filler's path. */
function fill (dir: string): string {
  const filler = join(dir, 'filler')
  try {
    writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
    return filler
  }
  throw new Error('8 MiB fit on a 4 MiB file system')
}

t.test('SQLite on a full disk: /readyz 503 and cuts 503 without calling the platform; room again: ready, cuts go through', async (t) => {
  const dir = smallDisk(t)
  const { app, simulator } = await startService(t, { env: { AUDIT_STORE_URL: `sqlite:${join(dir, 'audit.db')}` } })
  const cut = async (video: string) => await app.inject({ method: 'POST', url: `/v1/projects/proj-1/live-videos/${video}/cut`, headers: { authorization: `Bearer ${hsToken()}` } })
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready while there is room')
  const filler = fill(dir)

  const ready = await app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 503, '/readyz says not ready before any cut fails')
  t.same(ready.json(), { status: 'unavailable', reason: 'audit store not writable' })
  const refused = await cut('video-1')
  t.equal(refused.statusCode, 503)
  t.match(refused.json(), { type: /audit_unavailable$/ })
  t.equal(simulator.app.simulator.calls().length, 0, 'the platform was not called')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'still not ready after the failed cut')
  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /livecut_audit_write_failures_total\{record="intent"\} 1/, 'the failed intent is counted')

  rmSync(filler)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200, 'ready again once there is room')
  const done = await cut('video-2')
  t.equal(done.statusCode, 200, 'and cuts go through')
  t.equal(simulator.app.simulator.calls().length, 1)
})
