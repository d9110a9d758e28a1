import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import type { AuditOutcome } from '../audit/audit-entry.ts'
import type { AuditFilter } from '../audit/audit-store.ts'
import { type ChainHead, formatChainHead, parseChainHead } from '../audit/audit-chain.ts'
import { EXPORT_FORMATS, type ExportFormat, exportChunks } from '../audit/audit-export-format.ts'
import { DEFAULT_AUDIT_STORE_URL, openAuditStore, redactUrl } from '../audit/open-audit-store.ts'
import { scopeOf } from '../audit/audit-query.ts'
import { type Checkpoint, parseCheckpoint, publicKeysFromText } from '../audit/audit-checkpoint.ts'
import { verifyTrail } from '../audit/verification/trail-verification.ts'

/*
 * The audit trail from the command line, read-only (it never creates, migrates or writes):
 *   npm run audit -- verify [--store URL] [--public-key FILE]... [--checkpoint FILE [--incremental]] [--save-checkpoint FILE]
 *                           [--expect-head SEQ:HASH] [--json]
 *   npm run audit -- export [--store URL] [--format ndjson|csv] [--project P] [--video V]
 *                           [--actor SUB] [--outcome O] [--resolved true|false] [--since TIME] [--until TIME]
 * Exit codes: 0 done (verify: the chain is intact), 1 verification failed, 2 usage or store error.
 */

const USAGE = `usage:
  audit verify [--store URL] [--public-key FILE]... [--checkpoint FILE [--incremental]] [--save-checkpoint FILE]
               [--expect-head SEQ:HASH] [--json]
  audit export [--store URL] [--format ndjson|csv] [--project P] [--video V] [--actor SUB]
               [--outcome succeeded|rejected|failed|unknown] [--resolved true|false] [--since TIME] [--until TIME]

  --store        sqlite:<path> or postgres://… (default: $AUDIT_STORE_URL, else ${DEFAULT_AUDIT_STORE_URL})
  --public-key   the key that verifies checkpoints: PEM (SPKI), the JWK of /v1/audit/public-key, or a
                 JWK Set ({"keys": [...]}); repeat it for the keys of earlier rotations. Given, every
                 checkpoint must be signed by one of them; not given, signatures are not checked
  --checkpoint   a checkpoint kept outside the trail (JSON, as /v1/audit/checkpoints lists it): fails
                 if the chain no longer reaches it with its hash (records cut off, or rewritten)
  --incremental  read only the records from the --checkpoint on (it must be one an earlier verify
                 checked, e.g. one --save-checkpoint wrote; needs --public-key): fast, but blind to
                 changes before it that leave its own record intact; verify in full from time to time
  --save-checkpoint  after a verify that passed, write the newest checkpoint it verified to FILE
                 (needs --public-key): the --checkpoint of the next --incremental run
  --expect-head  a head printed by an earlier verify: fails if the chain no longer reaches it
                 with that hash (detects records removed from the end)
  --resolved     entries whose unknown outcome was resolved (true) or not yet (false)
  --since        inclusive, ISO 8601 with a zone; --until exclusive
`

const EXIT_OK = 0
const EXIT_VERIFY_FAILED = 1
const EXIT_USAGE = 2

class UsageError extends Error {}

interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
}

const OPTIONS = {
  store: { type: 'string' },
  'expect-head': { type: 'string' },
  'public-key': { type: 'string', multiple: true },
  checkpoint: { type: 'string' },
  incremental: { type: 'boolean' },
  'save-checkpoint': { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  project: { type: 'string' },
  video: { type: 'string' },
  actor: { type: 'string' },
  outcome: { type: 'string' },
  resolved: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

export async function main (argv: string[], io: Io = process): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${USAGE}`)
    return EXIT_USAGE
  }
  const { values, positionals } = parsed
  const [command, ...extra] = positionals
  if (values.help === true) {
    io.stdout.write(USAGE)
    return EXIT_OK
  }
  const url = values.store ?? nonEmpty(io.env.AUDIT_STORE_URL) ?? DEFAULT_AUDIT_STORE_URL
  try {
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`)
    if (command === 'verify') return await verify(url, values, io)
    if (command === 'export') return await exportEntries(url, values, io)
    throw new UsageError(command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${USAGE}`)
      return EXIT_USAGE
    }
    io.stderr.write(`audit ${command ?? ''}: ${(error as Error).message} (store ${redactUrl(url)})\n`)
    return EXIT_USAGE
  }
}

function nonEmpty (text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text
}

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string
}

/** A file's text, parsed; what is wrong with it is a usage error naming the option and the file. */
function fromFile<T> (option: string, file: string, parse: (text: string) => T): T {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`--${option} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    return parse(text)
  } catch (error) {
    throw new UsageError(`--${option} ${file} ${(error as Error).message}`)
  }
}

async function verify (url: string, values: Values, io: Io): Promise<number> {
  let expectHead: ChainHead | undefined
  if (values['expect-head'] !== undefined) {
    try {
      expectHead = parseChainHead(values['expect-head'])
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
  }
  const publicKeys = (values['public-key'] ?? []).flatMap((file) => fromFile('public-key', file, publicKeysFromText))
  const checkpoint: Checkpoint | undefined = values.checkpoint === undefined ? undefined : fromFile('checkpoint', values.checkpoint, parseCheckpoint)
  const incremental = values.incremental === true
  if (incremental && (checkpoint === undefined || publicKeys.length === 0)) throw new UsageError('--incremental needs --checkpoint (where to start) and --public-key (to check its signature)')
  if (incremental && expectHead !== undefined && checkpoint !== undefined && expectHead.seq < checkpoint.seq) {
    throw new UsageError(`--expect-head ${expectHead.seq} lies before the --checkpoint (record ${checkpoint.seq}): an --incremental run does not read it`)
  }
  const saveTo = values['save-checkpoint']
  if (saveTo !== undefined && publicKeys.length === 0) throw new UsageError('--save-checkpoint needs --public-key: a checkpoint whose signature was not checked is no anchor')
  const result = await verifyTrail({ url, background: false }, {
    ...(expectHead !== undefined && { expectHead }),
    ...(checkpoint !== undefined && (incremental ? { anchor: checkpoint } : { checkpoint })),
    publicKeys,
    requireKnownKey: publicKeys.length > 0
  })
  if (result.ok && saveTo !== undefined && result.checkpoint !== null) saveCheckpoint(saveTo, result.checkpoint)
  if (values.json === true) {
    io.stdout.write(JSON.stringify(result) + '\n')
  } else if (result.ok) {
    io.stdout.write(`ok: ${result.checked} records verified\n`)
    if (result.head !== null) {
      io.stdout.write(`head: ${formatChainHead(result.head)}\n`)
      const from = result.head.seq - result.checked + 1
      if (incremental) io.stdout.write(`incremental: records ${from}–${result.head.seq}, on from the checkpoint of record ${(checkpoint as Checkpoint).seq}; records before ${from} were not read\n`)
    }
    if (result.checkpoint !== null) io.stdout.write(`latest checkpoint: record ${result.checkpoint.seq}, signed ${result.checkpoint.time} (key ${result.checkpoint.keyId})\n`)
    if (saveTo !== undefined) io.stdout.write(result.checkpoint === null ? `no checkpoint verified: ${saveTo} left as it was\n` : `saved it to ${saveTo}\n`)
    if (publicKeys.length === 0) io.stderr.write('note: checkpoints were checked against the chain only; give --public-key to check their signatures too\n')
  } else {
    const { seq, entryId, problem } = result.firstBad
    io.stdout.write(`FAILED at record ${seq}${entryId === null ? '' : ` (entry ${entryId})`}: ${problem}\n` +
      `${result.checked} records verified before it\n`)
  }
  return result.ok ? EXIT_OK : EXIT_VERIFY_FAILED
}

/** Written beside the file and renamed over it: an interrupted run never leaves half an anchor. */
function saveCheckpoint (file: string, checkpoint: Checkpoint): void {
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, JSON.stringify(checkpoint) + '\n')
  renameSync(temporary, file)
}

async function exportEntries (url: string, values: Values, io: Io): Promise<number> {
  const format = (values.format ?? 'ndjson') as ExportFormat
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}`)
  const filter: AuditFilter = { projectIds: '*' }
  if (values.project !== undefined) filter.projectId = values.project
  if (values.video !== undefined) filter.videoId = values.video
  if (values.actor !== undefined) filter.actor = values.actor
  if (values.outcome !== undefined) filter.outcome = values.outcome as AuditOutcome
  if (values.resolved !== undefined) {
    if (values.resolved !== 'true' && values.resolved !== 'false') throw new UsageError('--resolved must be true or false')
    filter.resolved = values.resolved === 'true'
  }
  if (values.since !== undefined) filter.since = values.since
  if (values.until !== undefined) filter.until = values.until
  try {
    scopeOf(filter)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const store = await openAuditStore(url, { readOnly: true })
  try {
    await pipeline(Readable.from(exportChunks(store.streamEntries(filter), format)), io.stdout, { end: false })
  } catch (error) {
    // The reader went away (`| head`): not a failure of the export.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error
  } finally {
    await store.close()
  }
  return EXIT_OK
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2))
}
