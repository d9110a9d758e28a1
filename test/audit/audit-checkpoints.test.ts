import { createPublicKey } from 'node:crypto'
import t from 'tap'
import { BACKENDS, intentOf, makeEntry } from '../helpers/audit-fixtures.ts'
import {
  append, AUDITOR, type Checkpoint, checkpointsOf, getJson, type Jwk, recordHashAt, served, SIGNING_KEY, signatureHolds, thumbprint
} from '../helpers/checkpoints.ts'

// Signed checkpoints over the real app, on SQLite and PostgreSQL: signed on schedule (an
// injected clock whose timer the test fires) and at shutdown, stored, logged, listed, and
// verifiable with the published key by node:crypto alone.

for (const backend of BACKENDS) {
  t.test(`${backend}: checkpoints are signed on schedule and at shutdown, stored, logged, and verify with the published key`, async (t) => {
    const { trail, app, clock, logs } = await served(t, backend)
    const jwk = await getJson<Jwk>(app, '/v1/audit/public-key')
    const configured = createPublicKey(SIGNING_KEY).export({ format: 'jwk' })
    t.same(jwk, { kty: 'OKP', crv: 'Ed25519', x: configured.x, kid: thumbprint(configured as { x: string }) }, 'the JWK of AUDIT_SIGNING_KEY, kid its RFC 7638 thumbprint')

    await append(app, [[makeEntry(1), true], [makeEntry(2), true]])
    t.same((await checkpointsOf(app)).items, [], 'two records: below AUDIT_CHECKPOINT_RECORDS, nothing signed yet')
    t.same(clock.timers.map((timer) => timer.ms), [60000], 'the interval timer runs from the first unsigned record')

    await append(app, [[makeEntry(3), true]])
    t.match((await checkpointsOf(app)).items, [{ seq: 3 }], 'the third record: signed at once')
    t.same(clock.timers, [], 'and the timer is off')

    clock.nowMs += 5000
    await append(app, [[makeEntry(4), true]])
    t.same((await checkpointsOf(app)).items.length, 1, 'one more record: not yet')
    clock.fire()
    await app.auditCheckpoints.schedule.idle()
    t.match((await checkpointsOf(app)).items, [{ seq: 4, time: new Date(clock.nowMs).toISOString() }, { seq: 3 }], 'the timer signs it, newest first')

    await append(app, [[intentOf(makeEntry(5)), false]])
    await app.close()
    const stored = (await trail.store.listCheckpoints(10, null)).items
    t.match(stored, [{ seq: 5 }, { seq: 4 }, { seq: 3 }], 'the shutdown signed the last record')

    for (const checkpoint of stored) {
      t.equal(checkpoint.keyId, jwk.kid, `checkpoint ${checkpoint.seq} names the key`)
      t.equal(checkpoint.hash, await recordHashAt(trail, checkpoint.seq), `checkpoint ${checkpoint.seq} holds that record's chain hash`)
      t.ok(signatureHolds(checkpoint, jwk), `checkpoint ${checkpoint.seq}: its signature verifies with the published key`)
      t.notOk(signatureHolds({ ...checkpoint, seq: checkpoint.seq + 1 }, jwk), `checkpoint ${checkpoint.seq} with another seq does not`)
    }
    const logged = logs.records.filter((line) => line.msg === 'audit checkpoint').map((line) => line.checkpoint)
    t.same(logged, [...stored].reverse(), 'each checkpoint logged once, as "audit checkpoint" with the checkpoint under `checkpoint`')
  })

  t.test(`${backend}: checkpoints are listed newest first, a page at a time`, async (t) => {
    const { app } = await served(t, backend, { AUDIT_CHECKPOINT_RECORDS: '1' })
    for (let n = 1; n <= 5; n++) await append(app, [[makeEntry(n), true]])
    const seqs: number[] = []
    let cursor: string | null = null
    do {
      const page: { items: Checkpoint[], nextCursor: string | null } = await checkpointsOf(app, `?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`)
      t.ok(page.items.length <= 2, 'at most limit')
      seqs.push(...page.items.map((checkpoint) => checkpoint.seq))
      cursor = page.nextCursor
    } while (cursor !== null)
    t.same(seqs, [5, 4, 3, 2, 1])
    for (const query of ['?limit=0', '?limit=501', '?cursor=nonsense', '?other=1']) {
      const response = await app.inject({ url: `/v1/audit/checkpoints${query}`, headers: { authorization: `Bearer ${AUDITOR}` } })
      t.equal(response.statusCode, 400, `${query}: 400`)
      t.match(response.headers['content-type'], /^application\/problem\+json/)
    }
  })
}
