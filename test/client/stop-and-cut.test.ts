import { createPublicKey } from 'node:crypto'
import t, { type Test } from 'tap'
import { createLivecutClient, LivecutDeadlineError, LivecutProblemError, type CutBody, type ResolutionBody, type RetryEvent } from '@livecut/client'
import { eventually } from '../controls/support.ts'
import { ManualClock, SIGNING_KEY, signatureHolds, thumbprint } from '../helpers/checkpoints.ts'
import { FaultRelay } from '../helpers/fault-relay.ts'
import { startScriptedPlatform } from '../helpers/scripted-platform.ts'
import { startService, type ServiceUnderTest } from '../helpers/service.ts'
import { hsToken } from '../helpers/tokens.ts'

// The client as a frontend uses it, against the real service on a loopback port and the
// platform simulator behind it.

const token = hsToken({ scope: 'live:cut audit:read' })
// Short backoff so network-failure retries do not slow the suite; Retry-After still applies.
const retry = { baseMs: 1, maxMs: 4 }

async function listening (t: Parameters<typeof startService>[0], options: Parameters<typeof startService>[1] = {}): Promise<ServiceUnderTest & { origin: string }> {
  const service = await startService(t, options)
  const origin = await service.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...service, origin }
}

/** The entries of one video, oldest first, read back through the client. */
async function auditOf (client: ReturnType<typeof createLivecutClient>, videoId: string) {
  const { items } = await client.listAuditEvents({ projectId: 'proj-1', videoId })
  return items.reverse()
}

async function rejectionOf (promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

t.test('a 503 answer is retried with the same Idempotency-Key after its Retry-After: one cut at the platform', async (t) => {
  // One platform attempt per request: the service's 503 reaches the client, which retries.
  const service = await listening(t, { env: { UPSTREAM_MAX_ATTEMPTS: '1' }, simulator: { script: [{ kind: '503', retryAfter: 1 }] } })
  let tokenReads = 0
  const client = createLivecutClient({ baseUrl: service.origin, token: async () => { tokenReads += 1; return token }, retry })
  const retries: RetryEvent[] = []

  const result = await client.stopAndCut('proj-1', 'live-1', { startMs: 600000, endMs: 900000, visibility: 'public' }, { onRetry: (event) => retries.push(event) })

  t.equal(retries.length, 1, 'retried once')
  const [first] = retries
  t.equal(first?.waitMs, 1000, 'after the Retry-After the service sent (1 s), not the short backoff')
  t.ok(first?.error instanceof LivecutProblemError && first.error.status === 503 && first.error.code === 'upstream_unavailable', 'because of the 503')
  t.equal(tokenReads, 2, 'the token is read again for the retry (a refreshed one would be used)')
  t.equal(service.simulator.app.simulator.calls().length, 2, 'the platform was called twice')
  t.ok(service.simulator.app.simulator.isStopped('proj-1', 'live-1'), 'and cut once')

  const trail = await auditOf(client, 'live-1')
  t.same(trail.map((entry) => [entry.status, entry.outcome]), [[503, 'failed'], [200, 'succeeded']], 'two entries, the 503 then the cut')
  const keys = trail.map((entry) => entry.request.idempotencyKey)
  t.equal(new Set(keys).size, 1, 'one Idempotency-Key for both')
  t.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a generated UUID')
  t.equal(result.auditId, trail[1]?.id)
  t.equal(result.videoPublicId, trail[1]?.videoPublicId)

  const entry = await client.getAuditEvent(result.auditId)
  t.equal(entry.request.idempotencyKey, keys[0], 'getAuditEvent reads one entry')
  const verification = await client.verifyAuditTrail()
  t.equal(verification.ok, true, 'verifyAuditTrail')
  t.equal(verification.checked >= 2, true)
})

t.test('each logical cut has its own key; a key the caller gives is used', async (t) => {
  const service = await listening(t)
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })
  await client.stopAndCut('proj-1', 'live-a', {})
  await client.stopAndCut('proj-1', 'live-b', {}, { idempotencyKey: 'cut-live-b-from-tab-7' })
  const keys = [...await auditOf(client, 'live-a'), ...await auditOf(client, 'live-b')].map((entry) => entry.request.idempotencyKey)
  t.equal(keys.length, 2)
  t.not(keys[0], 'cut-live-b-from-tab-7')
  t.equal(keys[1], 'cut-live-b-from-tab-7')
})

t.test('an answer lost on the way back: the retry with the same key is replayed, the platform is not called again', async (t) => {
  const service = await listening(t)
  const relay = await FaultRelay.start({ host: '127.0.0.1', port: Number(new URL(service.origin).port) })
  t.teardown(() => relay.close())
  relay.loseAnswers(1)
  const auditor = createLivecutClient({ baseUrl: service.origin, token })
  const client = createLivecutClient({ baseUrl: relay.relayUrl(service.origin), token, retry })
  const retries: RetryEvent[] = []

  const result = await client.stopAndCut('proj-1', 'live-2', { startTime: '2024-01-01T12:00:00Z', endTime: '2024-01-01T12:15:00Z' }, { onRetry: (event) => retries.push(event) })

  t.equal(relay.answersLost, 1, 'the first answer never reached the client')
  t.equal(retries.length, 1)
  t.ok(retries[0]?.error instanceof TypeError, 'the client saw a network failure')
  t.equal(service.simulator.app.simulator.calls().length, 1, 'the platform was called once')
  const trail = await auditOf(auditor, 'live-2')
  t.same(trail.map((entry) => [entry.outcome, entry.reason]), [['succeeded', null], ['rejected', 'idempotent_replay']], 'the cut, then its replay')
  t.equal(trail[0]?.request.idempotencyKey, trail[1]?.request.idempotencyKey, 'under one key')
  t.equal(result.auditId, trail[0]?.id, 'the replayed answer is the first one')
  t.equal(result.videoPublicId, trail[0]?.videoPublicId)
})

t.test('a 400 is thrown as a typed problem with its errors, and is not retried', async (t) => {
  const service = await listening(t)
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })
  const retries: RetryEvent[] = []

  const error = await rejectionOf(client.stopAndCut('proj-1', 'live-3', { startMs: 900000, endMs: 600000 }, { onRetry: (event) => retries.push(event) }))
  t.ok(error instanceof LivecutProblemError)
  const problem = error as LivecutProblemError
  t.equal(problem.status, 400)
  t.equal(problem.code, 'validation')
  t.equal(problem.problem.type, 'urn:livecut:problem:validation')
  t.match(problem.problem.errors, [{ field: '/endMs', in: 'body' }], 'the offending field')
  t.match(problem.idempotencyKey, /^[0-9a-f-]{36}$/, 'the key of the cut it answered')

  // A typo that got past the types (a cast, plain JS) is refused by the service, never dropped.
  const typo = await rejectionOf(client.stopAndCut('proj-1', 'live-3', { startMS: 600000 } as unknown as CutBody)) as LivecutProblemError
  t.equal(typo.status, 400)
  t.match(typo.problem.errors, [{ field: '/startMS' }])

  t.equal(retries.length, 0, 'no retry')
  t.equal(service.simulator.app.simulator.calls().length, 0, 'the platform was never called')
})

t.test('other problems are typed too: 403 on the review API, a proxy\'s HTML page', async (t) => {
  const service = await listening(t)
  const cutter = createLivecutClient({ baseUrl: service.origin, token: hsToken({ scope: 'live:cut' }) })
  const forbidden = await rejectionOf(cutter.listAuditEvents()) as LivecutProblemError
  t.ok(forbidden instanceof LivecutProblemError)
  t.equal(forbidden.status, 403)
  t.equal(forbidden.code, 'forbidden')
  t.equal(forbidden.idempotencyKey, null)

  const proxy = await startScriptedPlatform([{ status: 502, headers: { 'content-type': 'text/html' }, body: '<html><body>Bad gateway</body></html>' }])
  t.teardown(() => proxy.close())
  const behindProxy = createLivecutClient({ baseUrl: proxy.url, token })
  const page = await rejectionOf(behindProxy.stopAndCut('proj-1', 'live-4', {})) as LivecutProblemError
  t.ok(page instanceof LivecutProblemError)
  t.equal(page.status, 502)
  t.equal(page.code, null, 'not one of the service\'s problems')
  t.equal(page.problem.type, 'about:blank')
  t.equal(proxy.received.length, 1, 'a 502 is not retried')
})

t.test('the deadline: no wait runs past it, and the last answer is thrown', async (t) => {
  // Retry-After 5 s against a 3 s deadline: the first attempt has seconds to be answered.
  const service = await listening(t, { env: { UPSTREAM_MAX_ATTEMPTS: '1' }, simulator: { script: [{ kind: '503', retryAfter: 5 }] } })
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })
  const retries: RetryEvent[] = []
  const error = await rejectionOf(client.stopAndCut('proj-1', 'live-5', {}, { deadlineMs: 3000, onRetry: (event) => retries.push(event) })) as LivecutProblemError
  t.ok(error instanceof LivecutProblemError, 'the 503 itself')
  t.equal(error.status, 503)
  t.equal(retries.length, 0, 'the 5 s Retry-After would end past the deadline: no wait, no retry')
  t.equal(service.simulator.app.simulator.calls().length, 1)
})

t.test('the deadline during an attempt: outcome unknown, and a later call with the same key gets the cut\'s answer', async (t) => {
  const service = await listening(t, { simulator: { script: [{ kind: 'delay', ms: 2500 }] } })
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })
  const error = await rejectionOf(client.stopAndCut('proj-1', 'live-6', {}, { deadlineMs: 500 })) as LivecutDeadlineError
  t.ok(error instanceof LivecutDeadlineError)
  t.equal(error.attempts, 1)
  t.match(error.idempotencyKey, /^[0-9a-f-]{36}$/)
  // The abandoned request goes on at the service: it is at the platform before the next call.
  await eventually('the first request reached the platform', () => service.simulator.app.simulator.calls().length === 1)

  // The first request is still at the platform: the service answers 409 idempotency_in_flight
  // until it ends, which the client waits out, then the first answer is replayed.
  const retries: RetryEvent[] = []
  const result = await client.stopAndCut('proj-1', 'live-6', {}, { idempotencyKey: error.idempotencyKey, onRetry: (event) => retries.push(event) })
  t.ok(retries.length >= 1, 'waited for the first request')
  t.ok(retries.every((event) => event.error instanceof LivecutProblemError && event.error.code === 'idempotency_in_flight'))
  t.equal(service.simulator.app.simulator.calls().length, 1, 'the platform was called once')
  const trail = await auditOf(client, 'live-6')
  t.equal(result.auditId, trail[0]?.id, 'the answer is the first request\'s cut')
  t.equal(trail.at(-1)?.reason, 'idempotent_replay')
})

t.test('abort: before the first attempt, and during a wait', async (t) => {
  const service = await listening(t, { env: { UPSTREAM_MAX_ATTEMPTS: '1' }, simulator: { script: [{ kind: '503', retryAfter: 1 }] } })
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })

  const early = new AbortController()
  const earlyReason = new Error('the user left the page')
  early.abort(earlyReason)
  t.equal(await rejectionOf(client.stopAndCut('proj-1', 'live-7', {}, { signal: early.signal })), earlyReason, 'rejects with the signal\'s reason')
  t.equal(service.simulator.app.simulator.calls().length, 0, 'nothing sent')

  const during = new AbortController()
  const duringReason = new Error('cancelled by the user')
  const error = await rejectionOf(client.stopAndCut('proj-1', 'live-7', {}, { signal: during.signal, onRetry: () => during.abort(duringReason) }))
  t.equal(error, duringReason, 'the wait after the 503 ends with the abort')
  t.equal(service.simulator.app.simulator.calls().length, 1, 'no second attempt')
})

/** A cut whose platform never answers: the service gives up after its timeout, and the entry reads `unknown`. */
async function unknownOutcome (t: Test) {
  const service = await listening(t, { env: { UPSTREAM_TIMEOUT_MS: '200', UPSTREAM_MAX_ATTEMPTS: '1' }, simulator: { script: [{ kind: 'hang' }] } })
  const timedOut = await rejectionOf(createLivecutClient({ baseUrl: service.origin, token, retry }).stopAndCut('proj-1', 'live-8', {})) as LivecutProblemError
  t.equal(timedOut.code, 'upstream_timeout', 'the cut timed out')
  const auditor = createLivecutClient({ baseUrl: service.origin, token })
  const [entry, ...others] = (await auditor.listAuditEvents({ videoId: 'live-8', outcome: 'unknown' })).items
  t.equal(others.length, 0)
  if (entry === undefined) throw new Error('no entry with an unknown outcome')
  return { service, auditor, entry }
}

const NOTE = 'Checked in the platform console: the VOD exists.'
const resolverToken = hsToken({ sub: 'carol', scope: 'audit:read audit:resolve' })

t.test('resolveAuditEvent: the entry is read back with its resolution, its outcome stays unknown; a second one is a 409', async (t) => {
  const { service, auditor, entry } = await unknownOutcome(t)
  let sent = 0
  const resolver = createLivecutClient({ baseUrl: service.origin, token: resolverToken, fetch: async (input, init) => { sent += 1; return await fetch(input, init) } })

  const resolved = await resolver.resolveAuditEvent(entry.id, { outcome: 'succeeded', note: NOTE, videoPublicId: 'vod-found' })
  t.match(resolved, { id: entry.id, outcome: 'unknown', resolution: { outcome: 'succeeded', note: NOTE, videoPublicId: 'vod-found', by: 'carol', time: /^\d{4}-\d\d-\d\dT/ } })
  const readBack = await auditor.getAuditEvent(entry.id)
  t.same(readBack, resolved, 'getAuditEvent reads the same entry, resolution included')
  t.equal(readBack.outcome, 'unknown', 'its own outcome is unchanged')
  t.same((await auditor.listAuditEvents({ videoId: 'live-8', resolved: true })).items.map((item) => item.id), [entry.id], 'listed as resolved')

  const second = await rejectionOf(resolver.resolveAuditEvent(entry.id, { outcome: 'failed', note: 'second thoughts' })) as LivecutProblemError
  t.ok(second instanceof LivecutProblemError)
  t.equal(second.status, 409)
  t.equal(second.code, 'already_resolved')
  t.equal(second.idempotencyKey, null)
  t.equal(sent, 2, 'one request per call: the 409 is not retried')
  t.equal((await auditor.getAuditEvent(entry.id)).resolution?.outcome, 'succeeded', 'the first resolution stands')
  t.match(await auditor.verifyAuditTrail(), { ok: true })
})

t.test('resolveAuditEvent: a bad body is a 400 with its errors, and nothing is resolved', async (t) => {
  const { service, auditor, entry } = await unknownOutcome(t)
  const resolver = createLivecutClient({ baseUrl: service.origin, token: resolverToken })

  const empty = await rejectionOf(resolver.resolveAuditEvent(entry.id, { outcome: 'failed', note: '' })) as LivecutProblemError
  t.ok(empty instanceof LivecutProblemError)
  t.equal(empty.status, 400)
  t.equal(empty.code, 'validation')
  t.match(empty.problem.errors, [{ field: '/note', in: 'body' }], 'the offending field')
  // What the types refuse (a cast, plain JS) the service refuses too.
  const unknown = await rejectionOf(resolver.resolveAuditEvent(entry.id, { outcome: 'unknown', note: NOTE } as unknown as ResolutionBody)) as LivecutProblemError
  t.equal(unknown.status, 400)
  t.match(unknown.problem.errors, [{ field: '/outcome', in: 'body' }])
  t.equal((await auditor.getAuditEvent(entry.id)).resolution, undefined, 'still unresolved')

  const reader = await rejectionOf(auditor.resolveAuditEvent(entry.id, { outcome: 'failed', note: NOTE })) as LivecutProblemError
  t.equal(reader.status, 403, 'audit:read alone may not resolve')
  t.equal(reader.code, 'forbidden')
})

t.test('resolveAuditEvent: a lost answer is not retried; reading the entry tells whether it was resolved', async (t) => {
  const { service, auditor, entry } = await unknownOutcome(t)
  const relay = await FaultRelay.start({ host: '127.0.0.1', port: Number(new URL(service.origin).port) })
  t.teardown(() => relay.close())
  relay.loseAnswers(1)
  const resolver = createLivecutClient({ baseUrl: relay.relayUrl(service.origin), token: resolverToken })

  const error = await rejectionOf(resolver.resolveAuditEvent(entry.id, { outcome: 'failed', note: 'No VOD; the live video still runs.' }))
  t.ok(error instanceof TypeError, 'the network failure reaches the caller')
  t.equal(relay.answersLost, 1)
  t.equal(relay.accepted, 1, 'no second request')
  t.match((await auditor.getAuditEvent(entry.id)).resolution, { outcome: 'failed', by: 'carol' }, 'the service had resolved it')
})

t.test('listAuditCheckpoints and getAuditPublicKey: each checkpoint verifies with the published key by node:crypto alone', async (t) => {
  // The schedule's timer fires only when the test says so: a checkpoint after each cut.
  const clock = new ManualClock()
  const service = await listening(t, { env: { AUDIT_SIGNING_KEY: SIGNING_KEY }, build: { checkpointClock: clock } })
  const client = createLivecutClient({ baseUrl: service.origin, token, retry })
  for (const videoId of ['live-c1', 'live-c2']) {
    await client.stopAndCut('proj-1', videoId, {})
    clock.fire()
    await service.app.auditCheckpoints.schedule.idle()
  }

  const jwk = await client.getAuditPublicKey()
  t.same(jwk, { kty: 'OKP', crv: 'Ed25519', x: createPublicKey(SIGNING_KEY).export({ format: 'jwk' }).x, kid: thumbprint(jwk) }, 'the JWK of AUDIT_SIGNING_KEY, kid its thumbprint')

  const first = await client.listAuditCheckpoints({ limit: 1 })
  t.equal(first.items.length, 1, 'limit is sent')
  if (first.nextCursor === null) throw new Error('no next page')
  const second = await client.listAuditCheckpoints({ limit: 1, cursor: first.nextCursor })
  const all = await client.listAuditCheckpoints()
  t.same(all, { items: [...first.items, ...second.items], nextCursor: null }, 'the cursor pages on; both, newest first, without a query')
  const [latest, earlier] = all.items
  if (latest === undefined || earlier === undefined) throw new Error('two checkpoints expected')
  t.ok(latest.seq > earlier.seq, 'newest first')
  t.same(latest.time, new Date(clock.nowMs).toISOString(), 'signed at the injected clock\'s time')

  const verification = await client.verifyAuditTrail()
  t.same(verification.head, { seq: latest.seq, hash: latest.hash }, 'the latest checkpoint signs the head of the chain')
  t.same(verification.checkpoint, latest, 'and is the one verification reports')
  const incremental = await client.verifyAuditTrail({ mode: 'incremental' })
  t.same(incremental.anchor, latest, 'incremental: read on from the checkpoint the full run verified (the query reached the service)')
  t.ok(incremental.ok && incremental.checked < verification.checked, 'and checked fewer records than the full run')
  for (const checkpoint of all.items) {
    t.equal(checkpoint.keyId, jwk.kid, `checkpoint ${checkpoint.seq} names the key`)
    t.ok(signatureHolds(checkpoint, jwk), `checkpoint ${checkpoint.seq}: its signature verifies`)
    t.notOk(signatureHolds({ ...checkpoint, seq: checkpoint.seq + 1 }, jwk), `checkpoint ${checkpoint.seq} with another seq does not`)
  }

  const cutter = createLivecutClient({ baseUrl: service.origin, token: hsToken({ scope: 'live:cut' }) })
  for (const call of [cutter.listAuditCheckpoints(), cutter.getAuditPublicKey()]) {
    const forbidden = await rejectionOf(call) as LivecutProblemError
    t.ok(forbidden instanceof LivecutProblemError, 'without audit:read: a typed problem')
    t.equal(forbidden.status, 403)
    t.equal(forbidden.code, 'forbidden')
  }
})
