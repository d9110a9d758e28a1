/** Small helpers shared by the stores; not part of the module's public API (not re-exported by index.ts). */
import { randomUUID } from 'node:crypto'

/** A random owner token for an idempotency marker or a lock lease. */
export function newToken (): string {
  return randomUUID()
}

/** Validates a duration setting and rounds it up to whole milliseconds (Redis PX needs an integer >= 1). */
export function positiveMs (name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`)
  return Math.ceil(value)
}
