import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import { createCheckpointSigner } from '../../src/audit/audit-checkpoint.ts'
import { BACKENDS, makeEntry } from '../helpers/audit-fixtures.ts'
import { type Checkpoint, cli, recordHashAt } from '../helpers/checkpoints.ts'
import { editBody, rewriteRecord, keptTrail, verifyFrom } from '../helpers/incremental-trail.ts'
import { planAppend, prepareRecord } from '../../src/audit/audit-chain.ts'
import { tempDir } from '../helpers/temp-dir.ts'

// `audit verify --incremental`: from a checkpoint the auditor kept (verified by an earlier run),
// only the records from it on are read, and they must still join its signed hash. What lies
// before it is not read: the last test shows that too, beside the full run that does see it.

for (const backend of BACKENDS) {
  t.test(`${backend}: the CLI, incremental from a kept checkpoint`, async (t) => {
    const fixture = await keptTrail(t, backend)
    const { trail, at } = fixture
    const at4 = at.get(4) as Checkpoint
    const at8 = at.get(8) as Checkpoint
    const head = { seq: 10, hash: await recordHashAt(trail, 10) }
    t.same([...at.keys()], [4, 8], 'checkpoints at records 4 and 8')

    t.test('an intact trail: only the records from the anchor on are read', async (t) => {
      t.same(await verifyFrom(fixture, at8), { code: 0, result: { ok: true, checked: 4, head, checkpoint: at8 } },
        'from checkpoint 8: records 7–10 (entry 10, open across it, starts at 7)')
      t.same(await verifyFrom(fixture, at4), { code: 0, result: { ok: true, checked: 8, head, checkpoint: at8 } },
        'from checkpoint 4: records 3–10 (entry 5, open across it, starts at 3); no false failure for its final')
      const text = await cli(['verify', '--store', trail.url, '--public-key', fixture.jwkFile, '--checkpoint', fixture.fileOf(at8), '--incremental'])
      t.equal(text.code, 0)
      t.match(text.stdout, /ok: 4 records verified\nhead: 10:[0-9a-f]{64}\nincremental: records 7–10, on from the checkpoint of record 8; records before 7 were not read/)
    })

    t.test('--save-checkpoint writes the newest checkpoint verified, the anchor of the next run', async (t) => {
      const saved = join(tempDir(t), 'anchor.json')
      const full = await cli(['verify', '--store', trail.url, '--public-key', fixture.jwkFile, '--save-checkpoint', saved])
      t.equal(full.code, 0, full.stdout + full.stderr)
      t.match(full.stdout, `saved it to ${saved}`)
      const next = await cli(['verify', '--store', trail.url, '--public-key', fixture.jwkFile, '--checkpoint', saved, '--incremental', '--json'])
      t.match(JSON.parse(next.stdout), { ok: true, checked: 4, checkpoint: at8 }, 'the next run reads on from it')
    })

    t.test('usage: --incremental needs a checkpoint and a key; --expect-head before the anchor is refused', async (t) => {
      const noKey = await cli(['verify', '--store', trail.url, '--checkpoint', fixture.fileOf(at8), '--incremental'])
      t.equal(noKey.code, 2)
      t.match(noKey.stderr, /--incremental needs --checkpoint \(where to start\) and --public-key/)
      const early = await cli(['verify', '--store', trail.url, '--public-key', fixture.jwkFile, '--checkpoint', fixture.fileOf(at8), '--incremental', '--expect-head', `4:${at4.hash}`])
      t.equal(early.code, 2)
      t.match(early.stderr, /--expect-head 4 lies before the --checkpoint \(record 8\)/)
      const saveNoKey = await cli(['verify', '--store', trail.url, '--save-checkpoint', join(tempDir(t), 'x.json')])
      t.equal(saveNoKey.code, 2)
      t.match(saveNoKey.stderr, /--save-checkpoint needs --public-key/)
    })

    t.test('a forged anchor fails: another seq and hash under the old signature, or another key', async (t) => {
      const moved = await verifyFrom(fixture, { ...at4, seq: 5, hash: await recordHashAt(trail, 5) as string })
      t.match(moved, { code: 1, result: { ok: false, firstBad: { seq: 5, problem: /the anchor of this incremental run .*its signature does not verify/ } } })
      const otherKey = createCheckpointSigner(generateKeyPairSync('ed25519').privateKey).sign({ seq: 8, hash: at8.hash }, Date.now())
      t.match(await verifyFrom(fixture, otherKey), { code: 1, result: { ok: false, firstBad: { seq: 8, problem: /signed by key .*, which is not among the public keys given/ } } })
    })

    t.test('an expected head after the anchor is still checked', async (t) => {
      t.match(await verifyFrom(fixture, at8, '--expect-head', `11:${'a'.repeat(64)}`),
        { code: 1, result: { ok: false, checked: 4, firstBad: { seq: 11, problem: /ends at record 10, before the recorded head 11/ } } })
    })
  })

  t.test(`${backend}: the CLI, incremental, on a trail changed after the anchor (checkpoint 4)`, async (t) => {
    t.test('a record changed after the anchor', async (t) => {
      const fixture = await keptTrail(t, backend)
      await editBody(fixture.trail, 7)
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint), { code: 1, result: { ok: false, checked: 4, firstBad: { seq: 7, problem: /hash does not match/ } } })
    })
    t.test('a record deleted after the anchor', async (t) => {
      const fixture = await keptTrail(t, backend)
      await fixture.trail.raw.exec(`DELETE FROM ${fixture.trail.raw.table} WHERE seq = 7`)
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint), { code: 1, result: { ok: false, checked: 4, firstBad: { seq: 7, problem: /record 7 is missing/ } } })
    })
    t.test('a record inserted after the anchor, hashed as the store would', async (t) => {
      const fixture = await keptTrail(t, backend)
      const { raw } = fixture.trail
      const forged = planAppend(prepareRecord(makeEntry(99), true), { head: { seq: 6, hash: await recordHashAt(fixture.trail, 6) as string }, intent: null, hasFinal: false })
      await raw.exec(`UPDATE ${raw.table} SET seq = seq + 1000000 WHERE seq >= 7`)
      await raw.exec(`UPDATE ${raw.table} SET seq = seq - 1000000 + 1 WHERE seq >= 1000000`)
      await raw.exec(`INSERT INTO ${raw.table} (seq, entry_id, final, entry_seq, project_id, video_id, actor_sub, outcome, time_ms, body, prev_hash, hash)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [forged.seq, forged.entryId, backend === 'sqlite' ? 1 : true, forged.entrySeq, forged.projectId, forged.videoId, forged.actorSub, forged.outcome, forged.timeMs, forged.body, forged.prevHash, forged.hash])
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint), { code: 1, result: { ok: false, checked: 5, firstBad: { seq: 8, problem: /prev_hash does not match the hash of record 7/ } } })
    })
    t.test('the anchor record rewritten (a valid record, another hash)', async (t) => {
      const fixture = await keptTrail(t, backend)
      await rewriteRecord(fixture.trail, 4, makeEntry(3, { outcome: 'failed' }))
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint),
        { code: 1, result: { ok: false, checked: 1, firstBad: { seq: 4, problem: /hash differs from the anchor of this incremental run \(the checkpoint of record 4/ } } })
    })
    t.test('the trail truncated before the anchor', async (t) => {
      const fixture = await keptTrail(t, backend)
      await fixture.trail.raw.exec(`DELETE FROM ${fixture.trail.raw.table} WHERE seq >= 3`)
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint),
        { code: 1, result: { ok: false, checked: 0, head: null, firstBad: { seq: 3, entryId: null, problem: /the chain ends at record 2, before the anchor of this incremental run/ } } })
    })
    t.test('what it cannot see: a body before the anchor edited, its stored hash left alone', async (t) => {
      const fixture = await keptTrail(t, backend)
      await editBody(fixture.trail, 2)
      t.match(await verifyFrom(fixture, fixture.at.get(4) as Checkpoint), { code: 0, result: { ok: true, checked: 8 } }, 'the incremental run does not read record 2')
      const full = await cli(['verify', '--store', fixture.trail.url, '--public-key', fixture.jwkFile, '--json'])
      t.match({ code: full.code, result: JSON.parse(full.stdout) }, { code: 1, result: { ok: false, firstBad: { seq: 2, problem: /hash does not match/ } } }, 'a full run does')
    })
  })
}
