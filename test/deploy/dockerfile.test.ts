import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EnvSchema } from '../../src/config/env-schema.ts'
import { startService } from '../helpers/service.ts'

// These tests read the Dockerfile as the builder would and run what can run without a container
// (the HEALTHCHECK command, against the app and against failures); test/container/
// (npm run test:container) builds the image with podman and runs it.

const root = fileURLToPath(new URL('../../', import.meta.url))
const dockerfileText = readFileSync(`${root}Dockerfile`, 'utf8')
const dockerignoreText = readFileSync(`${root}.dockerignore`, 'utf8')
const packageJson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  engines?: { node?: string }
  devDependencies?: Record<string, string>
}

interface Instruction { keyword: string, args: string }
interface Stage { image: string, name: string | undefined, instructions: Instruction[] }

/** Instructions in order: comment lines dropped, `\` continuations joined. */
function parseDockerfile (text: string): Instruction[] {
  const instructions: Instruction[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('#')) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const whole = (pending + line).trim()
    pending = ''
    if (whole === '') continue
    const match = /^(\S+)\s*(.*)$/.exec(whole)
    if (match !== null) instructions.push({ keyword: (match[1] as string).toUpperCase(), args: match[2] as string })
  }
  return instructions
}

function stagesOf (instructions: Instruction[]): Stage[] {
  const stages: Stage[] = []
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'))
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS')
      stages.push({ image: words[0] as string, name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] })
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return stages
}

interface Copy { from: string | undefined, sources: string[], destination: string }

function parseCopy (args: string): Copy {
  const words = args.split(/\s+/)
  const flags = words.filter((word) => word.startsWith('--'))
  const rest = words.filter((word) => !word.startsWith('--')).join(' ')
  const paths = rest.startsWith('[') ? JSON.parse(rest) as string[] : rest.split(/\s+/)
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length)
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1) as string }
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) as a record. */
function parseEnv (args: string): Record<string, string> {
  if (!args.includes('=')) {
    const [name, ...value] = args.split(/\s+/)
    return { [name as string]: value.join(' ') }
  }
  const env: Record<string, string> = {}
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
    env[match[1] as string] = (match[2] as string).replace(/^"(.*)"$/, '$1')
  }
  return env
}

/** The exec-form JSON array after `CMD` (for CMD itself, or the end of a HEALTHCHECK). */
function execForm (args: string): string[] | undefined {
  const json = /(\[.*\])\s*$/.exec(args)?.[1]
  if (json === undefined) return undefined
  const parsed: unknown = JSON.parse(json)
  return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined
}

/** Whether .dockerignore keeps `path` (or a folder above it) out of the build context; the last matching line wins. */
function dockerignored (path: string, ignoreText: string): boolean {
  const patterns = ignoreText.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
  const candidates = path.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'))
  let ignored = false
  for (const line of patterns) {
    const negated = line.startsWith('!')
    const pattern = posix.normalize((negated ? line.slice(1) : line).replace(/^\//, ''))
    const regex = new RegExp(`^${pattern.split(/(\*\*\/?|\*|\?)/).map((part) => {
      if (part === '**/') return '(?:.*/)?'
      if (part === '**') return '.*'
      if (part === '*') return '[^/]*'
      if (part === '?') return '[^/]'
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }).join('')}$`)
    if (candidates.some((candidate) => regex.test(candidate))) ignored = !negated
  }
  return ignored
}

const instructions = parseDockerfile(dockerfileText)
const stages = stagesOf(instructions)
const finalStage = stages.at(-1)
const finalOf = (keyword: string): Instruction[] => finalStage?.instructions.filter((instruction) => instruction.keyword === keyword) ?? []

t.test('the .dockerignore matcher reads patterns as the builder does', async (t) => {
  t.ok(dockerignored('node_modules', 'node_modules'))
  t.ok(dockerignored('src/server.ts', 'src'))
  t.ok(dockerignored('src/a.db', '**/*.db'))
  t.ok(dockerignored('a.db', '**/*.db'))
  t.notOk(dockerignored('src/server.ts', 'src\n!src'))
  t.notOk(dockerignored('src/server.ts', 'srcx\nsrc/*.js'))
  t.notOk(dockerignored('package.json', '*.db'))
})

t.test('multi-stage on a Node 24 base, the pinned runtime\'s major version', async (t) => {
  t.ok(stages.length >= 2, `several FROM stages (found ${stages.length})`)
  const pinnedMajor = /^(\d+)\./.exec(packageJson.devDependencies?.node ?? '')?.[1]
  t.ok(pinnedMajor, 'package.json pins the runtime in devDependencies.node')
  t.match(packageJson.engines?.node ?? '', new RegExp(`>=${pinnedMajor}\\b`), 'engines names the same major')
  const stageNames = new Set(stages.map((stage) => stage.name))
  const bases = stages.map((stage) => stage.image).filter((image) => !stageNames.has(image))
  t.ok(bases.length > 0, 'at least one stage starts from a base image')
  for (const image of bases) {
    t.match(image, new RegExp(`^node:${pinnedMajor}(-|$)`), `${image} is Node ${pinnedMajor}, which runs src/*.ts by type stripping`)
  }
})

t.test('production dependencies only', async (t) => {
  const npmInstalls = instructions.filter((instruction) => instruction.keyword === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(instruction.args))
  t.ok(npmInstalls.length > 0, 'a stage installs dependencies with npm')
  for (const run of npmInstalls) {
    t.match(run.args, /\bnpm\s+ci\b/, `"${run.args}" installs from the lock file (npm ci)`)
    t.match(run.args, /--omit=dev\b/, `"${run.args}" omits devDependencies (tap, typescript, the node package)`)
  }
  t.ok(packageJson.devDependencies?.node !== undefined, 'the node runtime package is a devDependency, so --omit=dev leaves it out')

  const copies = finalOf('COPY').map((instruction) => parseCopy(instruction.args))
  const modules = copies.filter((copy) => copy.sources.some((source) => /(^|\/)node_modules\/?$/.test(source)))
  t.ok(modules.length > 0, 'the final stage copies node_modules')
  for (const copy of modules) {
    t.ok(copy.from !== undefined, 'node_modules comes from a build stage, never from the host')
    const source = stages.find((stage) => stage.name === copy.from)
    t.ok(source?.instructions.some((instruction) => npmInstalls.includes(instruction)), `stage ${copy.from} is the one running npm ci --omit=dev`)
  }
  const hostSources = copies.filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources)
  t.notOk(hostSources.some((source) => source === '.' || source === './'), 'the final stage does not copy the whole build context')
})

t.test('the runtime stage: non-root, production, port, volume, command', async (t) => {
  const users = finalOf('USER').map((instruction) => instruction.args.trim())
  t.ok(users.length > 0, 'the final stage sets a USER')
  t.notOk(['root', '0', '0:0', 'root:root'].includes(users.at(-1) ?? 'root'), `runs as ${users.at(-1)}, not root`)
  t.equal(users.at(-1), 'node', 'the node user of the official image')

  const env = Object.assign({}, ...finalOf('ENV').map((instruction) => parseEnv(instruction.args))) as Record<string, string>
  t.equal(env.NODE_ENV, 'production', 'ENV NODE_ENV=production')

  const exposed = finalOf('EXPOSE').flatMap((instruction) => instruction.args.split(/\s+/)).map((port) => Number(port.split('/')[0]))
  t.same(exposed, [(EnvSchema.properties.PORT as { default?: unknown }).default], 'EXPOSE is the service\'s default PORT')

  const volumes = finalOf('VOLUME').flatMap((instruction) => execForm(instruction.args) ?? instruction.args.split(/\s+/))
  const auditFile = /^sqlite:(.+)$/.exec(env.AUDIT_STORE_URL ?? '')?.[1]
  t.ok(auditFile?.startsWith('/'), `AUDIT_STORE_URL is an absolute SQLite path (${env.AUDIT_STORE_URL})`)
  const dataDir = dirname(auditFile ?? '/')
  t.ok(volumes.includes(dataDir), `the SQLite audit file's folder ${dataDir} is a VOLUME (${volumes.join(', ')})`)
  // The builder discards changes made to a volume's folder after VOLUME: the chown comes first.
  const order = finalStage?.instructions ?? []
  const chown = order.findIndex((instruction) => instruction.keyword === 'RUN' && instruction.args.includes('chown') &&
    /\bnode\b/.test(instruction.args) && instruction.args.includes(dataDir))
  const volume = order.findIndex((instruction) => instruction.keyword === 'VOLUME')
  t.ok(chown >= 0 && chown < volume, 'the data folder is given to the node user before VOLUME is declared')

  const cmds = finalOf('CMD')
  t.same(execForm(cmds.at(-1)?.args ?? ''), ['node', 'src/server.ts'], 'CMD runs src/server.ts with node, in exec form (node is PID 1 and receives SIGTERM)')
  t.ok(existsSync(`${root}src/server.ts`), 'src/server.ts exists')
})

t.test('every path the Dockerfile copies from the build context exists and is not .dockerignored', async (t) => {
  const hostCopies = instructions
    .filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD')
    .map((instruction) => parseCopy(instruction.args))
    .filter((copy) => copy.from === undefined)
  t.ok(hostCopies.length > 0, 'the Dockerfile copies files from the build context')
  for (const source of hostCopies.flatMap((copy) => copy.sources)) {
    const path = posix.normalize(source).replace(/\/$/, '')
    t.ok(existsSync(`${root}${path}`), `${source} exists in the repository`)
    t.notOk(dockerignored(path, dockerignoreText), `${source} is not excluded by .dockerignore`)
  }
  t.ok(hostCopies.some((copy) => copy.sources.includes('package-lock.json')), 'package-lock.json is copied, as npm ci needs it')
})

t.test('.dockerignore keeps secrets, host dependencies and local data out of the build context', async (t) => {
  for (const path of ['node_modules', '.git', 'secrets/jwt_secret', 'data/audit.db', '.tap', 'coverage', 'test/deploy/dockerfile.test.ts']) {
    t.ok(dockerignored(path, dockerignoreText), `${path} is excluded`)
  }
  for (const path of ['src/server.ts', 'src/simulator/server.ts', 'package.json', 'package-lock.json']) {
    t.notOk(dockerignored(path, dockerignoreText), `${path} is in the build context`)
  }
})

/** Runs an exec-form command whose program is node, with this process's Node 24; resolves its exit code. */
async function runNodeCommand (argv: string[], env: Record<string, string>): Promise<number | null> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv.slice(1), { env: { ...process.env, ...env }, stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', (code) => resolve(code))
  })
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

t.test('HEALTHCHECK: node\'s fetch on /healthz, healthy only when the service answers 2xx', async (t) => {
  const healthchecks = finalOf('HEALTHCHECK')
  t.equal(healthchecks.length, 1, 'the final stage has one HEALTHCHECK')
  const command = execForm(healthchecks[0]?.args ?? '')
  t.ok(command, 'in exec form (no shell in the probe)')
  if (command === undefined) return
  t.equal(command[0], 'node', 'run by node: slim images have no curl or wget')
  t.match(command.join(' '), /\/healthz\b/, 'probes /healthz')

  t.test('the service as built: healthy', async (t) => {
    const { app } = await startService(t)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const port = (app.server.address() as AddressInfo).port
    t.equal(await runNodeCommand(command, { PORT: String(port) }), 0, 'exit 0 against the running app')
  })

  t.test('a service answering 503: unhealthy', async (t) => {
    const paths: string[] = []
    const server = createServer((request, response) => {
      paths.push(request.url ?? '')
      response.statusCode = 503
      response.end()
    })
    const port = await listen(server)
    t.teardown(() => server.close())
    t.not(await runNodeCommand(command, { PORT: String(port) }), 0, 'non-zero exit')
    t.same(paths, ['/healthz'], 'it asked /healthz, on the port named by PORT')
  })

  t.test('nothing listening: unhealthy', async (t) => {
    const server = createServer()
    const port = await listen(server)
    await new Promise((resolve) => server.close(resolve))
    t.not(await runNodeCommand(command, { PORT: String(port) }), 0, 'non-zero exit')
  })
})
