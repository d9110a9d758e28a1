import { createPublicKey } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { BACKENDS, seedTrail, TrailModel } from '../helpers/audit-fixtures.ts'
import {
  append, type Checkpoint, checkpointsOf, checkpointTable, cli, getJson, type Jwk, opsOf, pemOf, recordHashAt, served, thumbprint, unguardCheckpoints
} from '../helpers/checkpoints.ts'
import { tempDir } from '../helpers/temp-dir.ts'
import { realignUnknownEntries } from '../helpers/verification.ts'

// What verification (the API and the CLI) makes of checkpoints: a trail cut off after one,
// rewritten before one kept elsewhere, or given a forged one, fails; a key not given fails.

for (const backend of BACKENDS) {
  t.test(`${backend}: a trail cut off after a checkpoint fails verify, through the API and the CLI`, async (t) => {
    const { trail, app } = await served(t, backend, { AUDIT_CHECKPOINT_RECORDS: '4' })
    await append(app, opsOf(1, 8))
    const dir = tempDir(t)
    const jwkFile = join(dir, 'public.jwk')
    writeFileSync(jwkFile, JSON.stringify(await getJson<Jwk>(app, '/v1/audit/public-key')))
    const [latest] = (await checkpointsOf(app)).items as [Checkpoint]
    t.equal(latest.seq, 8, 'checkpoints at records 4 and 8')
    const keptFile = join(dir, 'checkpoint.json')
    writeFileSync(keptFile, JSON.stringify(latest))

    const intact = await getJson<Record<string, unknown>>(app, '/v1/audit/verify')
    t.same(intact, { ok: true, checked: 10, head: { seq: 10, hash: await recordHashAt(trail, 10) }, checkpoint: latest }, 'intact: the head and the latest checkpoint')
    const cliIntact = await cli(['verify', '--store', trail.url, '--public-key', jwkFile, '--checkpoint', keptFile])
    t.equal(cliIntact.code, 0, cliIntact.stdout + cliIntact.stderr)
    t.match(cliIntact.stdout, /latest checkpoint: record 8, signed /)

    await trail.raw.disableGuards()
    await trail.raw.exec(`DELETE FROM ${trail.raw.table} WHERE seq >= 8`)
    await realignUnknownEntries(trail)
    t.match(await getJson(app, '/v1/audit/verify'), { ok: false, checked: 7, firstBad: { seq: 8, entryId: null, problem: /ends at record 7, before the checkpoint of record 8/ } },
      'the API: records removed after the stored checkpoint')
    const cut = await cli(['verify', '--store', trail.url, '--public-key', jwkFile])
    t.equal(cut.code, 1, 'the CLI exits 1')
    t.match(cut.stdout, /FAILED at record 8: the chain ends at record 7, before the checkpoint of record 8/)

    // The attacker removes the stored checkpoints too: only the one kept elsewhere still shows the cut.
    await unguardCheckpoints(trail)
    await trail.raw.exec(`DELETE FROM ${checkpointTable(trail)}`)
    t.match(await getJson(app, '/v1/audit/verify'), { ok: true, checked: 7, checkpoint: null }, 'the trail alone now looks intact')
    const kept = await cli(['verify', '--store', trail.url, '--public-key', jwkFile, '--checkpoint', keptFile])
    t.equal(kept.code, 1, 'but not against the checkpoint kept outside it')
    t.match(kept.stdout, /FAILED at record 8: the chain ends at record 7, before the checkpoint kept outside the trail \(record 8/)
  })

  t.test(`${backend}: a trail rewritten before a checkpoint kept elsewhere fails verify`, async (t) => {
    const { trail, app } = await served(t, backend, { AUDIT_CHECKPOINT_RECORDS: '4' })
    const ops = opsOf(1, 8)
    await append(app, ops)
    const [latest] = (await checkpointsOf(app)).items as [Checkpoint]
    const keptFile = join(tempDir(t), 'checkpoint.json')
    writeFileSync(keptFile, JSON.stringify(latest))

    // A whole new chain, valid from the genesis, with one entry changed, and no checkpoints.
    await trail.raw.disableGuards()
    await unguardCheckpoints(trail)
    await trail.raw.exec(`DELETE FROM ${trail.raw.table}`)
    await trail.raw.exec(`DELETE FROM ${checkpointTable(trail)}`)
    await seedTrail(trail, new TrailModel(), ops.map(([entry, final]) => [entry.id === 'entry-2' ? { ...entry, outcome: 'failed' } : entry, final]))
    t.match(await getJson(app, '/v1/audit/verify'), { ok: true, checked: 10 }, 'the rewritten chain verifies on its own')
    const result = await cli(['verify', '--store', trail.url, '--checkpoint', keptFile, '--json'])
    t.equal(result.code, 1, 'not against the checkpoint kept elsewhere')
    t.match(JSON.parse(result.stdout), { ok: false, checked: 7, firstBad: { seq: 8, problem: /hash differs from the checkpoint kept outside the trail/ } })
  })

  t.test(`${backend}: a forged checkpoint (another seq, another hash, another key) fails verify`, async (t) => {
    const { trail, app } = await served(t, backend, { AUDIT_CHECKPOINT_RECORDS: '4' })
    await append(app, opsOf(1, 8))
    const jwk = await getJson<Jwk>(app, '/v1/audit/public-key')
    const dir = tempDir(t)
    const jwkFile = join(dir, 'public.jwk')
    writeFileSync(jwkFile, JSON.stringify(jwk))
    const table = checkpointTable(trail)
    const [at8, at4] = (await checkpointsOf(app)).items as [Checkpoint, Checkpoint]

    // Record 4's checkpoint, copied to record 6 with that record's hash: its signature no longer covers it.
    const insert = `INSERT INTO ${table} (seq, hash, time, key_id, signature) VALUES ($1, $2, $3, $4, $5)`
    await trail.raw.exec(insert, [6, await recordHashAt(trail, 6), at4.time, at4.keyId, at4.signature])
    t.match(await getJson(app, '/v1/audit/verify'), { ok: false, checked: 5, firstBad: { seq: 6, problem: /checkpoint of record 6 .*signature does not verify/ } }, 'changed seq')
    t.equal((await cli(['verify', '--store', trail.url, '--public-key', jwkFile])).code, 1, 'the CLI too')

    await unguardCheckpoints(trail)
    await trail.raw.exec(`DELETE FROM ${table} WHERE seq = 6`)
    await trail.raw.exec(`UPDATE ${table} SET hash = $1 WHERE seq = 8`, ['0'.repeat(64)])
    t.match(await getJson(app, '/v1/audit/verify'), { ok: false, checked: 7, firstBad: { seq: 8, problem: /signature does not verify/ } }, 'changed hash')
    await trail.raw.exec(`UPDATE ${table} SET hash = $1 WHERE seq = 8`, [at8.hash])
    t.match(await getJson(app, '/v1/audit/verify'), { ok: true, checked: 10, checkpoint: at8 }, 'restored, it verifies again')

    // Another key: the CLI given only it refuses every checkpoint; given both (a JWK Set, as after a rotation), it passes.
    const other = createPublicKey(pemOf()).export({ format: 'jwk' })
    const otherFile = join(dir, 'other.jwk')
    writeFileSync(otherFile, JSON.stringify({ ...other, kid: thumbprint(other as { x: string }) }))
    const unknown = await cli(['verify', '--store', trail.url, '--public-key', otherFile])
    t.equal(unknown.code, 1)
    t.match(unknown.stdout, /FAILED at record 4 \(entry entry-3\): the checkpoint of record 4 .*signed by key .*not among the public keys given/)
    const setFile = join(dir, 'keys.json')
    writeFileSync(setFile, JSON.stringify({ keys: [{ ...other }, jwk] }))
    t.equal((await cli(['verify', '--store', trail.url, '--public-key', setFile])).code, 0, 'a JWK Set holding the signing key')
    t.equal((await cli(['verify', '--store', trail.url, '--public-key', otherFile, '--public-key', jwkFile])).code, 0, '--public-key twice')
  })
}
