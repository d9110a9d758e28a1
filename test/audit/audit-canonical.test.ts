import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import t, { type Test } from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import {
  type AuditRecordRow, canonicalEntry, canonicalRecord, GENESIS_HASH, prepareRecord, recordHash, verifyChain
} from '../../src/audit/audit-chain.ts'
import { knownEntryCanonical } from '../../src/audit/canonical-entry.ts'
import { openAuditStore } from '../../src/audit/open-audit-store.ts'
import { migrationsFor as postgresMigrations } from '../../src/audit/postgres-audit-store.ts'
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/audit/sqlite-audit-store.ts'
import { type Backend, BACKENDS, PG_URL } from '../helpers/audit-fixtures.ts'

/*
 * Golden vectors: every stored hash depends on the exact RFC 8785 text of its entry, so these
 * are written out literally, as a store at commit cc12cda wrote them (records 1–5 of one trail,
 * each `body` as stored, `canonical` the entry's RFC 8785 text, `hash` the record's chain hash).
 * Any change of serialisation, in our code or in a dependency, fails here; they also hold the
 * entry serialiser (canonical-entry.ts) to what `canonicalize` wrote.
 */
interface Vector {
  name: string
  final: boolean
  body: string
  canonical: string
  hash: string
}

const VECTORS: readonly Vector[] = [
  {
    name: 'an intent: nulls where the platform has not answered',
    final: false,
    body: '{"id":"0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b","requestId":"req-golden-1","time":"2025-03-04T05:06:07.089Z","actor":{"sub":"alice","clientId":"web-console","ip":"192.0.2.10","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"action":"live-video.stop-and-cut","projectId":"proj-a","videoId":"video-42","request":{"cut":{"startMs":600000,"endMs":900000,"startTime":null,"endTime":null},"visibility":"public","idempotencyKey":"key-1"},"outcome":"unknown","status":null,"reason":null,"upstream":null,"videoPublicId":null,"durationMs":null}',
    canonical: '{"action":"live-video.stop-and-cut","actor":{"clientId":"web-console","ip":"192.0.2.10","sub":"alice","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"durationMs":null,"id":"0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b","outcome":"unknown","projectId":"proj-a","reason":null,"request":{"cut":{"endMs":900000,"endTime":null,"startMs":600000,"startTime":null},"idempotencyKey":"key-1","visibility":"public"},"requestId":"req-golden-1","status":null,"time":"2025-03-04T05:06:07.089Z","upstream":null,"videoId":"video-42","videoPublicId":null}',
    hash: 'e0d500e97c485bc55df565470717186fbd5be31f78130a3070907040f0185c55'
  },
  {
    name: 'its final record: nested objects, a fractional number, an array',
    final: true,
    body: '{"id":"0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b","requestId":"req-golden-1","time":"2025-03-04T05:06:07.089Z","actor":{"sub":"alice","clientId":"web-console","ip":"192.0.2.10","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"action":"live-video.stop-and-cut","projectId":"proj-a","videoId":"video-42","request":{"cut":{"startMs":600000,"endMs":900000,"startTime":null,"endTime":null},"visibility":"public","idempotencyKey":"key-1"},"outcome":"succeeded","status":200,"reason":null,"upstream":{"attempts":2,"statuses":[503,200],"latencyMs":12.5},"videoPublicId":"vod-42","durationMs":15.25}',
    canonical: '{"action":"live-video.stop-and-cut","actor":{"clientId":"web-console","ip":"192.0.2.10","sub":"alice","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"durationMs":15.25,"id":"0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b","outcome":"succeeded","projectId":"proj-a","reason":null,"request":{"cut":{"endMs":900000,"endTime":null,"startMs":600000,"startTime":null},"idempotencyKey":"key-1","visibility":"public"},"requestId":"req-golden-1","status":200,"time":"2025-03-04T05:06:07.089Z","upstream":{"attempts":2,"latencyMs":12.5,"statuses":[503,200]},"videoId":"video-42","videoPublicId":"vod-42"}',
    hash: '1ddc695503f4f96371a28c2917e44cce8bef27fbcdd8d8478977af58f77608bc'
  },
  {
    name: 'strings that need escaping, a null subject, a non-UTC zone',
    final: true,
    body: '{"id":"entry-odd","requestId":"req-\\"odd\\"","time":"2025-03-04T05:06:08.000+02:00","actor":{"sub":null,"clientId":null,"ip":"::1","userAgent":"q\\"b\\\\s/ nul\\u0000 us\\u001f del\u007f ls\u2028 ps\u2029 é 😀 \\t\\n\\r\\b\\f"},"action":"live-video.stop-and-cut","projectId":"proj-ü","videoId":null,"request":{"cut":null,"visibility":null,"idempotencyKey":"</script><x>&"},"outcome":"rejected","status":400,"reason":"validation","upstream":null,"videoPublicId":null,"durationMs":0.30000000000000004}',
    canonical: '{"action":"live-video.stop-and-cut","actor":{"clientId":null,"ip":"::1","sub":null,"userAgent":"q\\"b\\\\s/ nul\\u0000 us\\u001f del\u007f ls\u2028 ps\u2029 é 😀 \\t\\n\\r\\b\\f"},"durationMs":0.30000000000000004,"id":"entry-odd","outcome":"rejected","projectId":"proj-ü","reason":"validation","request":{"cut":null,"idempotencyKey":"</script><x>&","visibility":null},"requestId":"req-\\"odd\\"","status":400,"time":"2025-03-04T05:06:08.000+02:00","upstream":null,"videoId":null,"videoPublicId":null}',
    hash: 'db327cffbce1de91e6066cd5dc94d53572dd1da04e6c53ba9b31722d55a57bb4'
  },
  {
    name: 'numbers: zero, -0, the largest safe integer, 1e21',
    final: true,
    body: '{"id":"entry-numbers","requestId":"req-numbers","time":"2025-03-04T05:06:07.089Z","actor":{"sub":"alice","clientId":"web-console","ip":"192.0.2.10","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"action":"live-video.stop-and-cut","projectId":"proj-a","videoId":"video-42","request":{"cut":{"startMs":0,"endMs":9007199254740991,"startTime":"2025-03-04T05:00:00.000Z","endTime":"2025-03-04T05:10:00.000Z"},"visibility":"private","idempotencyKey":null},"outcome":"failed","status":503,"reason":"upstream_unavailable","upstream":{"attempts":3,"statuses":[503,503,503],"latencyMs":1e+21},"videoPublicId":null,"durationMs":0}',
    canonical: '{"action":"live-video.stop-and-cut","actor":{"clientId":"web-console","ip":"192.0.2.10","sub":"alice","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"durationMs":0,"id":"entry-numbers","outcome":"failed","projectId":"proj-a","reason":"upstream_unavailable","request":{"cut":{"endMs":9007199254740991,"endTime":"2025-03-04T05:10:00.000Z","startMs":0,"startTime":"2025-03-04T05:00:00.000Z"},"idempotencyKey":null,"visibility":"private"},"requestId":"req-numbers","status":503,"time":"2025-03-04T05:06:07.089Z","upstream":{"attempts":3,"latencyMs":1e+21,"statuses":[503,503,503]},"videoId":"video-42","videoPublicId":null}',
    hash: '8009d0cbd1a65bcf132ea87eb7431dd54e6d016c5a05e35376ce3cf582b26f16'
  },
  {
    name: 'a field outside the entry schema (older or newer writers)',
    final: true,
    body: '{"id":"entry-extra","requestId":"req-extra","time":"2025-03-04T05:06:07.089Z","actor":{"sub":"alice","clientId":"web-console","ip":"192.0.2.10","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"action":"live-video.stop-and-cut","projectId":"proj-a","videoId":"video-42","request":{"cut":{"startMs":600000,"endMs":900000,"startTime":null,"endTime":null},"visibility":"public","idempotencyKey":"key-1"},"outcome":"succeeded","status":200,"reason":null,"upstream":{"attempts":2,"statuses":[503,200],"latencyMs":12.5},"videoPublicId":"vod-42","durationMs":15.25,"note":{"b":1,"a":[true,false,null],"é":"x","Z":"upper first"}}',
    canonical: '{"action":"live-video.stop-and-cut","actor":{"clientId":"web-console","ip":"192.0.2.10","sub":"alice","userAgent":"Mozilla/5.0 (X11; Linux x86_64)"},"durationMs":15.25,"id":"entry-extra","note":{"Z":"upper first","a":[true,false,null],"b":1,"é":"x"},"outcome":"succeeded","projectId":"proj-a","reason":null,"request":{"cut":{"endMs":900000,"endTime":null,"startMs":600000,"startTime":null},"idempotencyKey":"key-1","visibility":"public"},"requestId":"req-extra","status":200,"time":"2025-03-04T05:06:07.089Z","upstream":{"attempts":2,"latencyMs":12.5,"statuses":[503,200]},"videoId":"video-42","videoPublicId":"vod-42"}',
    hash: 'ad7b9bf3c8a0049338ed1bd2b6147e425eeb5afbf9d46d653a12fdec682c0a44'
  }
]

/** The trail the vectors make, with the columns a store keeps beside each body. */
function trailRows (): AuditRecordRow[] {
  const firstSeq = new Map<string, number>()
  return VECTORS.map((vector, i) => {
    const entry = JSON.parse(vector.body) as AuditEntry
    const seq = i + 1
    if (!firstSeq.has(entry.id)) firstSeq.set(entry.id, seq)
    return {
      seq,
      entryId: entry.id,
      kind: 'entry',
      final: vector.final,
      entrySeq: firstSeq.get(entry.id) as number,
      projectId: entry.projectId,
      videoId: entry.videoId,
      actorSub: entry.actor.sub,
      outcome: entry.outcome,
      timeMs: Date.parse(entry.time),
      body: vector.body,
      prevHash: i === 0 ? GENESIS_HASH : (VECTORS[i - 1] as Vector).hash,
      hash: vector.hash
    }
  })
}

t.test('golden vectors: each entry\'s canonical text and each record\'s hash, exactly', async (t) => {
  let prevHash = GENESIS_HASH
  for (const [i, vector] of VECTORS.entries()) {
    const entry = JSON.parse(vector.body) as AuditEntry
    t.equal(canonicalEntry(entry), vector.canonical, `${vector.name}: canonical text`)
    // The last vector is off the known shape: the generic serialiser writes it; the others are written directly.
    t.equal(knownEntryCanonical(entry), i === VECTORS.length - 1 ? null : vector.canonical, `${vector.name}: the entry serialiser`)
    t.equal(prepareRecord(entry, vector.final).canonicalEntry, vector.canonical, `${vector.name}: as an append prepares it`)
    t.equal(recordHash(prevHash, canonicalRecord(i + 1, entry.id, vector.final, vector.canonical)), vector.hash, `${vector.name}: record hash`)
    prevHash = vector.hash
  }
})

/** The records as schema version 1 (before resolutions) stored them: no kind column. */
const V1_INSERT = (table: string): string => `INSERT INTO ${table} (seq, entry_id, final, entry_seq, project_id, video_id, actor_sub, outcome, time_ms, body, prev_hash, hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
const v1Values = (row: AuditRecordRow): unknown[] =>
  [row.seq, row.entryId, row.final, row.entrySeq, row.projectId, row.videoId, row.actorSub, row.outcome, row.timeMs, row.body, row.prevHash, row.hash]

/** A trail at schema version 1 holding the vectors' records, written straight into the database. */
async function versionOneTrail (t: Test, backend: Backend): Promise<string> {
  if (backend === 'sqlite') {
    const file = join(t.testdir(), 'audit-v1.db')
    const db = new DatabaseSync(file)
    db.exec(SQLITE_MIGRATIONS[0] as string)
    db.exec('PRAGMA user_version = 1')
    const insert = db.prepare(V1_INSERT('audit_records').replace(/\$(\d+)/g, '?$1'))
    for (const row of trailRows()) insert.run(...(v1Values(row).map((value) => typeof value === 'boolean' ? Number(value) : value) as never[]))
    db.close()
    return `sqlite:${file}`
  }
  const schema = `audit_test_v1_${process.pid}_${randomBytes(3).toString('hex')}`
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  t.teardown(async () => {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
  })
  await client.query(`CREATE SCHEMA "${schema}"`)
  await client.query(postgresMigrations(schema)[0] as string)
  await client.query(`CREATE TABLE "${schema}".audit_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
  await client.query(`INSERT INTO "${schema}".audit_schema_migrations (version) VALUES (1)`)
  for (const row of trailRows()) await client.query(V1_INSERT(`"${schema}".audit_records`), v1Values(row))
  return `${PG_URL}?schema=${schema}`
}

t.test('golden vectors: a trail written before keeps verifying, in memory and in both stores after their migration', async (t) => {
  const rows = trailRows()
  const head = { seq: rows.length, hash: (VECTORS.at(-1) as Vector).hash }
  t.same(await verifyChain(rows), { ok: true, checked: rows.length, head })
  for (const backend of BACKENDS) {
    await t.test(backend, async (t) => {
      const store = await openAuditStore(await versionOneTrail(t, backend))
      t.teardown(() => store.close())
      t.same(await store.verify({ expectHead: head }), { ok: true, checked: rows.length, head }, 'migrated, it verifies as it did')
      t.same(await store.getEntry('entry-odd', '*'), JSON.parse((VECTORS[2] as Vector).body), 'read back as stored')
      await store.append({ ...(JSON.parse((VECTORS[0] as Vector).body) as AuditEntry), id: 'entry-new', outcome: 'unknown' }, false)
      await store.resolve('entry-new', { outcome: 'failed', note: 'no VOD', videoPublicId: null, by: 'carol', time: '2025-03-05T00:00:00.000Z' }, '*')
      t.match(await store.verify({ expectHead: head }), { ok: true, checked: rows.length + 2 }, 'and goes on, resolutions included')
    })
  }
})
