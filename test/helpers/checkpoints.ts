import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey, verify as verifySignature } from 'node:crypto'
import type { Test } from 'tap'
import type { App } from '../../src/app.ts'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import type { CheckpointClock } from '../../src/audit/checkpoint-schedule.ts'
import { type CliResult, cliInProcess } from './audit-cli.ts'
import { type Backend, intentOf, makeEntry, setUpTrail, type TrailUnderTest } from './audit-fixtures.ts'
import { type LogCapture, startService } from './service.ts'
import { hsToken } from './tokens.ts'

// Signed checkpoints over the real app (startService), on a trail of either store, with an
// injected clock whose timer the test fires; and the checks an outside verifier makes of a
// checkpoint, written with node:crypto alone, never with the service's own code.

export interface Checkpoint { seq: number, hash: string, time: string, keyId: string, signature: string }
export interface Jwk { kty: string, crv: string, x: string, kid: string }

export const pemOf = (): string => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
export const SIGNING_KEY = pemOf()
export const AUDITOR = hsToken({ scope: 'audit:read', projects: '*' })

/** The schedule's clock: time moves and the timer fires only when the test says so. */
export class ManualClock implements CheckpointClock {
  nowMs = Date.UTC(2026, 0, 1, 12)
  timers: Array<{ callback: () => void, ms: number }> = []
  now = (): number => this.nowMs
  setTimeout = (callback: () => void, ms: number): unknown => {
    const timer = { callback, ms }
    this.timers.push(timer)
    return timer
  }

  clearTimeout = (timer: unknown): void => { this.timers = this.timers.filter((pending) => pending !== timer) }
  fire (): void {
    const due = this.timers
    this.timers = []
    for (const timer of due) timer.callback()
  }
}

export interface Served { trail: TrailUnderTest, app: App, clock: ManualClock, logs: LogCapture }

export async function served (t: Test, backend: Backend, env: Record<string, string> = {}): Promise<Served> {
  const trail = await setUpTrail(t, backend)
  const clock = new ManualClock()
  const { app, logs } = await startService(t, {
    env: { AUDIT_STORE_URL: trail.url, AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_CHECKPOINT_RECORDS: '3', AUDIT_CHECKPOINT_INTERVAL_MS: '60000', ...env },
    build: { checkpointClock: clock }
  })
  return { trail, app, clock, logs }
}

/** Appends through the app's store, one record after another, each time waiting for the checkpoint it caused. */
export async function append (app: App, entries: Array<[AuditEntry, boolean]>): Promise<void> {
  for (const [entry, final] of entries) {
    await app.auditStore.append(entry, final)
    await app.auditCheckpoints.schedule.idle()
  }
}

export async function getJson<T> (app: App, url: string): Promise<T> {
  const response = await app.inject({ url, headers: { authorization: `Bearer ${AUDITOR}` } })
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`)
  return response.json<T>()
}

export const checkpointsOf = async (app: App, query = ''): Promise<{ items: Checkpoint[], nextCursor: string | null }> => await getJson(app, `/v1/audit/checkpoints${query}`)

/**
 * The checks an outside verifier makes, written here with node:crypto alone: the keyId is the
 * RFC 7638 thumbprint of the key, the signature covers the RFC 8785 JSON of the four members
 * (for these members, sorted keys with JSON.stringify's escaping are RFC 8785).
 */
export function thumbprint (jwk: { x: string }): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`).digest('base64url')
}
export function signatureHolds (checkpoint: Checkpoint, jwk: Jwk): boolean {
  const signed = `{"hash":${JSON.stringify(checkpoint.hash)},"keyId":${JSON.stringify(checkpoint.keyId)},"seq":${checkpoint.seq},"time":${JSON.stringify(checkpoint.time)}}`
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JsonWebKey, format: 'jwk' })
  return verifySignature(null, Buffer.from(signed), key, Buffer.from(checkpoint.signature, 'base64url'))
}

export async function recordHashAt (trail: TrailUnderTest, seq: number): Promise<string | undefined> {
  const [row] = await trail.raw.query(`SELECT hash FROM ${trail.raw.table} WHERE seq = $1`, [seq])
  return row?.hash as string | undefined
}

export const checkpointTable = (trail: TrailUnderTest): string => trail.raw.table.replace('audit_records', 'audit_checkpoints')

/** What an attacker with DBA rights does to the checkpoint table first. */
export async function unguardCheckpoints (trail: TrailUnderTest): Promise<void> {
  if (trail.backend === 'sqlite') {
    for (const name of ['audit_checkpoints_no_update', 'audit_checkpoints_no_delete']) await trail.raw.exec(`DROP TRIGGER IF EXISTS ${name}`)
  } else {
    await trail.raw.exec(`ALTER TABLE ${checkpointTable(trail)} DISABLE TRIGGER USER`)
  }
}

/** The audit command line in this process, with no environment. */
export const cli = async (args: string[]): Promise<CliResult> => await cliInProcess(args)

/** Entries 1..n: every third with an intent before its final record. */
export function opsOf (from: number, to: number): Array<[AuditEntry, boolean]> {
  const ops: Array<[AuditEntry, boolean]> = []
  for (let n = from; n <= to; n++) {
    if (n % 3 === 0) ops.push([intentOf(makeEntry(n)), false])
    ops.push([makeEntry(n), true])
  }
  return ops
}
