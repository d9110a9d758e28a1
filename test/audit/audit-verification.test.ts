import { rmSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import t from 'tap'
import { BACKENDS, makeEntry, PG_URL, setUpTrail } from '../helpers/audit-fixtures.ts'
import { AUDITOR, SIGNING_KEY } from '../helpers/checkpoints.ts'
import { seededTrail, verifyInWorkers } from '../helpers/verification.ts'
import { startService } from '../helpers/service.ts'

// Verification off the request path, on SQLite and PostgreSQL: the event loop stays free while
// it runs; concurrent HTTP calls share one run; a store that fails under it is a problem
// answer, and the service lives on.

/** Enough for the event loop to show a walk in this thread (it yields every 1,000 records). */
const RECORDS = 6000

/** A TCP relay in front of PostgreSQL that drops every connection once `cutAfter` bytes have come back from the server. */
class DroppingRelay {
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  #budget = Number.POSITIVE_INFINITY
  port = 0

  async start (): Promise<void> {
    const target = new URL(PG_URL)
    this.#server = createServer((client) => {
      const server = createConnection({ host: target.hostname, port: Number(target.port || 5432) })
      for (const socket of [client, server]) {
        this.#sockets.add(socket)
        socket.on('close', () => this.#sockets.delete(socket))
        socket.on('error', () => { client.destroy(); server.destroy() })
      }
      client.pipe(server)
      server.on('data', (chunk: Buffer) => {
        this.#budget -= chunk.length
        if (this.#budget < 0) this.dropAll()
        else client.write(chunk)
      })
    })
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.address() as { port: number }).port
  }

  cutAfter (bytes: number): void { this.#budget = bytes }
  heal (): void { this.#budget = Number.POSITIVE_INFINITY }
  dropAll (): void { for (const socket of this.#sockets) socket.destroy() }

  async stop (): Promise<void> {
    this.dropAll()
    await new Promise((resolve) => this.#server?.close(resolve))
  }
}

t.test('sqlite: a trail the verifier cannot open is a 503 problem, and the service goes on', async (t) => {
  const trail = await setUpTrail(t, 'sqlite')
  const { app } = await startService(t, { env: { AUDIT_STORE_URL: trail.url, AUDIT_SIGNING_KEY: SIGNING_KEY } })
  await app.auditStore.append(makeEntry(1), true)
  rmSync(trail.url.slice('sqlite:'.length))
  const response = await app.inject({ url: '/v1/audit/verify', headers: { authorization: `Bearer ${AUDITOR}` } })
  t.equal(response.statusCode, 503)
  t.match(response.json(), { type: 'urn:livecut:problem:audit_unavailable', status: 503, detail: /could not be read to verify/ })
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the process answers on')
})

for (const backend of BACKENDS) {
  t.test(backend, async (t) => {
    const trail = await seededTrail(t, backend, RECORDS)

    t.test('verification runs off the event loop', async (t) => {
    /** The event loop's delays while `work` runs, sampled every millisecond. */
      const delays = async (work: () => Promise<unknown>): Promise<{ p90: number, max: number }> => {
        const histogram = monitorEventLoopDelay({ resolution: 1 })
        histogram.enable()
        await work()
        histogram.disable()
        return { p90: histogram.percentile(90) / 1e6, max: histogram.max / 1e6 }
      }
      // The same records walked in this thread, yielding every 1,000 records, then in the workers.
      const inThread = await delays(async () => await trail.store.verify())
      const offThread = await delays(async () => await verifyInWorkers(trail))
      t.ok(offThread.p90 * 2 < inThread.p90,
      `the loop's 90th-percentile delay: ${offThread.p90.toFixed(1)} ms with the workers, ${inThread.p90.toFixed(1)} ms walking in this thread`)
    })

    t.test('concurrent verify requests share one run', async (t) => {
      const { app } = await startService(t, { env: { AUDIT_STORE_URL: trail.url, AUDIT_SIGNING_KEY: SIGNING_KEY } })
      // Workers this thread starts: one coordinator per verification run.
      let started = 0
      const count = (): void => { started++ }
      process.on('worker', count)
      t.teardown(() => { process.off('worker', count) })
      const verify = async (): Promise<unknown> =>
        (await app.inject({ url: '/v1/audit/verify', headers: { authorization: `Bearer ${AUDITOR}` } })).json()
      const answers = await Promise.all([verify(), verify(), verify()])
      t.equal(started, 1, 'three requests at once: one verification')
      t.match(answers[0], { ok: true, checked: RECORDS })
      t.same(answers[1], answers[0], 'each gets its answer')
      t.same(answers[2], answers[0])
      t.match(await verify(), { ok: true, checked: RECORDS })
      t.equal(started, 2, 'a request after it: a new run')
    })

    if (backend === 'postgres') {
      t.test('the database dropping connections in the middle of a verification is a 503 problem; the service goes on and recovers', async (t) => {
        const relay = new DroppingRelay()
        await relay.start()
        t.teardown(async () => { await relay.stop() })
        const url = new URL(trail.url)
        url.host = `127.0.0.1:${relay.port}`
        const { app } = await startService(t, { env: { AUDIT_STORE_URL: url.toString(), AUDIT_SIGNING_KEY: SIGNING_KEY } })
        const verify = async () => await app.inject({ url: '/v1/audit/verify', headers: { authorization: `Bearer ${AUDITOR}` } })
        // A few hundred kB in: the snapshot is open and records are being read (the trail is some 3 MB).
        relay.cutAfter(300_000)
        const dropped = await verify()
        t.equal(dropped.statusCode, 503, dropped.body)
        t.match(dropped.json(), { type: 'urn:livecut:problem:audit_unavailable', detail: /could not be read to verify/ })
        t.notMatch(dropped.body, /postgres:|127\.0\.0\.1/, 'the store\'s address is not in the answer')
        t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the process answers on')
        relay.heal()
        t.match((await verify()).json(), { ok: true, checked: RECORDS }, 'the database back, verification works again')
      })
    }
  })
}
