import { type FileHandle, open } from 'node:fs/promises'

/**
 * `fdatasync` of one file on libuv's threadpool, coalesced: at most one runs at a time, and every
 * caller that asks while it runs shares the one after it (which covers their writes, made before
 * they asked). A disk that stalls therefore holds one pool thread, not one per commit, and the
 * event loop never waits. The file is opened once and kept: a sync error is reported once per
 * open file, and a fresh descriptor would not see an earlier one.
 */
export class FileSync {
  readonly #path: string
  #handle: Promise<FileHandle> | null = null
  #running: Promise<void> | null = null
  #queued: Promise<void> | null = null

  constructor (path: string) {
    this.#path = path
  }

  async sync (): Promise<void> {
    if (this.#running === null) {
      this.#running = this.#datasync().finally(() => { this.#running = null })
      await this.#running
      return
    }
    // A sync already running may have started before the caller's write: wait for the next one.
    this.#queued ??= this.#running.catch(() => {}).then(async () => {
      this.#queued = null
      await this.sync()
    })
    await this.#queued
  }

  async #datasync (): Promise<void> {
    this.#handle ??= open(this.#path, 'r').catch((error: unknown) => { this.#handle = null; throw error })
    await (await this.#handle).datasync()
  }

  /** Closes the file after any sync still running. */
  async close (): Promise<void> {
    const handle = this.#handle
    this.#handle = null
    await handle?.then(async (file) => { await file.close() }, () => {})
  }
}
