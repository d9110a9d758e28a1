import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { App } from '../../src/app.ts'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { type Backend, seedTrail, setUpTrail, TrailModel, type TrailUnderTest } from './audit-fixtures.ts'
import { startService } from './service.ts'

/** A problem+json answer of this status and code, carrying no entries. */
export function isProblem (t: Test, response: LightMyRequestResponse, status: number, code: string, message: string): Record<string, unknown> {
  t.equal(response.statusCode, status, `${message}: ${status}`)
  t.match(response.headers['content-type'], /^application\/problem\+json/, `${message}: problem+json`)
  const body = response.json<Record<string, unknown>>()
  t.match(body, { type: `urn:livecut:problem:${code}`, status, title: String, detail: String, requestId: String }, `${message}: problem ${code}`)
  t.notOk('items' in body, `${message}: no entries in the answer`)
  return body
}

/** The service on a fresh trail of the backend, seeded with these records. */
export async function servedTrail (t: Test, backend: Backend, ops: Array<[AuditEntry, boolean]>): Promise<{ trail: TrailUnderTest, model: TrailModel, app: App }> {
  const trail = await setUpTrail(t, backend)
  const model = new TrailModel()
  await seedTrail(trail, model, ops)
  return { trail, model, app: (await startService(t, { env: { AUDIT_STORE_URL: trail.url } })).app }
}
