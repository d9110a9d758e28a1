/**
 * One signal for an operation that ends at the caller's abort or at its deadline, whichever
 * comes first. Written out rather than AbortSignal.any/timeout, which React Native lacks.
 */
export class Deadline {
  /**
   * @param {number} ms
   * @param {AbortSignal | undefined} callerSignal
   */
  constructor (ms, callerSignal) {
    this.endsAt = Date.now() + ms
    this.callerSignal = callerSignal
    this.controller = new AbortController()
    this.expired = false
    this.onCallerAbort = () => this.controller.abort(callerSignal?.reason)
    this.timer = setTimeout(() => {
      this.expired = true
      this.controller.abort()
    }, ms)
    if (callerSignal?.aborted === true) this.onCallerAbort()
    else callerSignal?.addEventListener('abort', this.onCallerAbort)
  }

  /** Aborted by the caller or by the deadline. */
  get signal () { return this.controller.signal }

  remainingMs () { return this.endsAt - Date.now() }

  /**
   * Waits `ms`, or rejects when the signal aborts first.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  sleep (ms) {
    return new Promise((resolve, reject) => {
      const signal = this.signal
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal.reason)
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  clear () {
    clearTimeout(this.timer)
    this.callerSignal?.removeEventListener('abort', this.onCallerAbort)
  }
}
