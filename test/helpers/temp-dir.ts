import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A temporary directory removed at teardown. */
export function tempDir (t: { teardown: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'livecut-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
