/**
 * The verification phase of `npm run bench -- --growth`, on the seeded trail:
 *  (b) verification throughput in records/s — the CLI (its own process), the HTTP route (in the
 *      server's worker threads), and, as the floor of the same run, the walk in one thread that
 *      verification was before it moved to workers; then incremental runs beside them: the CLI
 *      from a checkpoint at half the trail (records/s over the half it reads) and from the newest
 *      stored checkpoint, and the route's `?mode=incremental` after its full run;
 *  (c) cut latency at a fixed rate before and while three HTTP verifies run at once.
 */
import { execFile } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { type Checkpoint, createCheckpointSigner, signingKeyFromPem } from '../src/audit/audit-checkpoint.ts'
import { openAuditStore } from '../src/audit/open-audit-store.ts'
import type { LatencySummary } from './load.ts'
import { unpin } from './processes.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const execFileAsync = promisify(execFile)

/** SPEC's targets for this phase (issue 13). */
export const VERIFY_TARGET_RECORDS_PER_SECOND = 80_000
const targetP99 = (before: number): number => 1.5 * before + 10

export interface Throughput {
  records: number
  seconds: number
  recordsPerSecond: number
  problem: string | null
}

export interface VerificationResult {
  cli: Throughput
  http: Throughput
  /** The floor: the same trail walked in one thread (store.verify), in this process. */
  oneThread: Throughput
  incremental: {
    /** The CLI from a checkpoint at half the trail (signed here with the server's key). */
    cliFromHalf: Throughput
    /** The CLI from the newest stored checkpoint: the everyday case. */
    cliFromNewest: Throughput
    /** `GET /v1/audit/verify?mode=incremental` after the full HTTP run (its anchor). */
    http: Throughput
  }
  cutsAtFixedRate: {
    rate: number
    before: LatencySummary
    during: LatencySummary
    /** HTTP verifies that completed during the loaded phase (three callers, sharing runs). */
    verifiesCompleted: number
    targetP99Ms: number
    problem: string | null
  }
}

export interface VerificationPhaseOptions {
  trailUrl: string
  serverUrl: string
  auditToken: string
  /** The server's AUDIT_SIGNING_KEY: the bench signs the half-trail anchor with it. */
  signingKeyPem: string
  /** Cut load at `rate` requests/s for `seconds`, with its own accounting (run.ts's loadPhase). */
  paced: (phase: string, seconds: number, rate: number) => Promise<{ latencyMs: LatencySummary, problem: string | null }>
  rate: number
  seconds: number
  /** Runs `work` with the server on every CPU (the throughput runs), then puts it back in its place. */
  unpinned: <T>(work: () => Promise<T>) => Promise<T>
  log: (line: string) => void
}

function throughput (records: number, started: number, problem: string | null): Throughput {
  const seconds = (performance.now() - started) / 1000
  return { records, seconds: Math.round(seconds * 100) / 100, recordsPerSecond: Math.round(records / seconds), problem }
}

async function httpVerify (serverUrl: string, token: string, query = ''): Promise<{ ok: boolean, checked: number, status: number }> {
  const response = await request(`${serverUrl}/v1/audit/verify${query}`, { headers: { authorization: `Bearer ${token}` }, headersTimeout: 0, bodyTimeout: 0 })
  const body = await response.body.json() as { ok?: boolean, checked?: number }
  return { ok: body.ok === true, checked: body.checked ?? 0, status: response.statusCode }
}

async function measureCli (trailUrl: string, extra: string[] = []): Promise<Throughput> {
  const started = performance.now()
  try {
    const run = execFileAsync(process.execPath, [join(ROOT, 'src/cli/audit.ts'), 'verify', '--store', trailUrl, '--json', ...extra], { maxBuffer: 1 << 20 })
    // This process is pinned to the load generator's CPU, and its children with it: the CLI gets every CPU.
    if (run.child.pid !== undefined) unpin(run.child.pid)
    const { stdout } = await run
    const result = JSON.parse(stdout) as { ok: boolean, checked: number }
    return throughput(result.checked, started, result.ok ? null : 'the chain did not verify')
  } catch (error) {
    return throughput(0, started, `audit verify failed: ${(error as Error).message.split('\n')[0]}`)
  }
}

async function measureHttp (serverUrl: string, token: string, query = ''): Promise<Throughput> {
  const started = performance.now()
  const answer = await httpVerify(serverUrl, token, query)
  return throughput(answer.checked, started, answer.status === 200 && answer.ok ? null : `GET /v1/audit/verify${query} answered ${answer.status}, ok ${answer.ok}`)
}

/**
 * The anchors of the CLI's incremental runs: a checkpoint at half the trail, signed here, and the
 * newest stored one (a trail whose server has not signed one yet, such as a small seeded trail
 * loaded for a second: a checkpoint of its head, signed here with the same key).
 */
async function anchors (trailUrl: string, signingKeyPem: string): Promise<{ half: Checkpoint, newest: Checkpoint }> {
  const store = await openAuditStore(trailUrl, { readOnly: true })
  try {
    const snapshot = await store.openSnapshot()
    try {
      const head = await snapshot.head()
      if (head === null) throw new Error('the seeded trail is empty')
      let half: Checkpoint | null = null
      const signer = createCheckpointSigner(signingKeyFromPem(signingKeyPem))
      for await (const row of snapshot.records(Math.ceil(head.seq / 2), Math.ceil(head.seq / 2))) half = signer.sign(row, Date.now())
      return { half: half as Checkpoint, newest: (await snapshot.checkpoints()).at(-1) ?? signer.sign(head, Date.now()) }
    } finally {
      await snapshot.close()
    }
  } finally {
    await store.close()
  }
}

async function measureIncrementalCli (trailUrl: string, signingKeyPem: string): Promise<Throughput[]> {
  const dir = mkdtempSync(join(tmpdir(), 'verify-phase-'))
  try {
    const keyFile = join(dir, 'public.pem')
    writeFileSync(keyFile, createPublicKey(signingKeyFromPem(signingKeyPem)).export({ format: 'pem', type: 'spki' }))
    const { half, newest } = await anchors(trailUrl, signingKeyPem)
    const fromFile = async (checkpoint: Checkpoint): Promise<Throughput> => {
      const file = join(dir, `checkpoint-${checkpoint.seq}.json`)
      writeFileSync(file, JSON.stringify(checkpoint))
      return await measureCli(trailUrl, ['--public-key', keyFile, '--checkpoint', file, '--incremental'])
    }
    return [await fromFile(half), await fromFile(newest)]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function measureOneThread (trailUrl: string): Promise<Throughput> {
  const store = await openAuditStore(trailUrl, { readOnly: true })
  const started = performance.now()
  try {
    const result = await store.verify()
    return throughput(result.checked, started, result.ok ? null : 'the chain did not verify')
  } finally {
    await store.close()
  }
}

export async function measureVerification (options: VerificationPhaseOptions): Promise<VerificationResult> {
  const { log } = options
  const show = (name: string, run: Throughput): void => {
    log(`    ${name}: ${run.records.toLocaleString('en')} records in ${run.seconds.toFixed(1)} s, ${run.recordsPerSecond.toLocaleString('en')} records/s${run.problem === null ? '' : ` — FAILED: ${run.problem}`}`)
  }
  log('  verification throughput (no load; the server on every CPU):')
  const oneThread = await measureOneThread(options.trailUrl)
  show('floor, one thread (the walk verification was before workers)', oneThread)
  const cli = await options.unpinned(async () => await measureCli(options.trailUrl))
  show('CLI, worker threads', cli)
  const http = await options.unpinned(async () => await measureHttp(options.serverUrl, options.auditToken))
  show('HTTP GET /v1/audit/verify, background worker threads', http)
  const [cliFromHalf, cliFromNewest] = await options.unpinned(async () => await measureIncrementalCli(options.trailUrl, options.signingKeyPem)) as [Throughput, Throughput]
  show('CLI --incremental from a checkpoint at half the trail', cliFromHalf)
  show('CLI --incremental from the newest checkpoint (stored, else of the head)', cliFromNewest)
  const incrementalHttp = await options.unpinned(async () => await measureHttp(options.serverUrl, options.auditToken, '?mode=incremental'))
  show('HTTP ?mode=incremental, after the full run above', incrementalHttp)

  log(`  cuts at ${options.rate} req/s for ${options.seconds} s, before and during three concurrent HTTP verifies:`)
  const before = await options.paced('verify-before', options.seconds, options.rate)
  const loaded = { running: true }
  let verifiesCompleted = 0
  let verifyProblem: string | null = null
  const caller = async (): Promise<void> => {
    while (loaded.running) {
      const answer = await httpVerify(options.serverUrl, options.auditToken)
      if (answer.status !== 200 || !answer.ok) verifyProblem = `a verify during the load answered ${answer.status}, ok ${answer.ok}`
      if (loaded.running) verifiesCompleted++
    }
  }
  const callers = [caller(), caller(), caller()]
  const during = await options.paced('verify-during', options.seconds, options.rate)
  loaded.running = false
  await Promise.all(callers)
  const targetP99Ms = targetP99(before.latencyMs.p99)
  const cutsAtFixedRate = {
    rate: options.rate,
    before: before.latencyMs,
    during: during.latencyMs,
    verifiesCompleted,
    targetP99Ms,
    problem: before.problem ?? during.problem ?? verifyProblem
  }
  log(`    before: p50 ${before.latencyMs.p50.toFixed(1)} ms, p99 ${before.latencyMs.p99.toFixed(1)} ms`)
  log(`    during: p50 ${during.latencyMs.p50.toFixed(1)} ms, p99 ${during.latencyMs.p99.toFixed(1)} ms (${verifiesCompleted} verifies answered meanwhile)` +
    `${cutsAtFixedRate.problem === null ? '' : ` — FAILED: ${cutsAtFixedRate.problem}`}`)
  log(`  targets: ≥ ${VERIFY_TARGET_RECORDS_PER_SECOND.toLocaleString('en')} records/s — CLI ${cli.recordsPerSecond >= VERIFY_TARGET_RECORDS_PER_SECOND ? 'met' : 'NOT met'}, ` +
    `HTTP ${http.recordsPerSecond >= VERIFY_TARGET_RECORDS_PER_SECOND ? 'met' : 'NOT met'}; cut p99 during ≤ 1.5 × ${before.latencyMs.p99.toFixed(1)} + 10 = ${targetP99Ms.toFixed(1)} ms — ` +
    `${during.latencyMs.p99 <= targetP99Ms ? 'met' : 'NOT met'}`)
  return { cli, http, oneThread, incremental: { cliFromHalf, cliFromNewest, http: incrementalHttp }, cutsAtFixedRate }
}
