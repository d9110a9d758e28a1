import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'

/** Podman, set for this machine by the tests' own containers.conf (runc, ulimits within the hard limits). */
export const CONTAINERS_CONF = fileURLToPath(new URL('containers.conf', import.meta.url))
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const STAND_IN_SCRIPT = fileURLToPath(new URL('build-stand-in-images.sh', import.meta.url))

export interface CommandResult { code: number, stdout: string, stderr: string }

interface Teardown { teardown: (fn: () => unknown) => void }

/** Resolves with the exit code whatever it is (callers assert it); rejects only when the command cannot start. */
export function run (file: string, args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, CONTAINERS_CONF, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`${file} could not run (${String(error.code)}): is it installed? (apt-get install podman runc debootstrap podman-compose)`))
        return
      }
      resolve({ code: error === null ? 0 : error.code as number, stdout, stderr })
    })
  })
}

/** `podman …`; variables in `env` reach podman's own environment (so `--env NAME` passes them without a value on the command line). */
export function podman (args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return run('podman', args, env)
}

/** The local stand-ins for the images the Dockerfile and the compose file name (once per machine). */
export function buildStandIns (): Promise<CommandResult> {
  return run('bash', [STAND_IN_SCRIPT])
}

/**
 * The project's image from its Dockerfile as it is, on the local stand-in for its base image
 * (built once per machine). Docker format keeps the HEALTHCHECK, which OCI format drops.
 */
export async function buildProjectImage (tag: string): Promise<CommandResult> {
  const base = await buildStandIns()
  if (base.code !== 0) return base
  const build = await podman(['build', '--format', 'docker', '--pull=never', '--network=host', '--tag', tag, PROJECT_ROOT])
  return { code: build.code, stdout: base.stdout + build.stdout, stderr: base.stderr + build.stderr }
}

/** A loopback port free at the time of asking (containers share the host's network). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

let started = 0

/** `podman run --detach` on the host network; the container and its anonymous volumes are removed at teardown. */
export async function runContainer (t: Teardown, image: string, options: { env?: Record<string, string>, command?: string[] } = {}): Promise<string> {
  const env = options.env ?? {}
  const name = `livecut-test-${process.pid}-${++started}`
  t.teardown(() => podman(['rm', '--force', '--volumes', name]))
  const result = await podman(['run', '--detach', '--network=host', '--name', name,
    ...Object.keys(env).flatMap((variable) => ['--env', variable]), image, ...(options.command ?? [])], env)
  if (result.code !== 0) throw new Error(`podman run failed: ${result.stderr}`)
  return name
}

export async function inspect (name: string, format: string): Promise<string> {
  const result = await podman(['inspect', '--format', format, name])
  if (result.code !== 0) throw new Error(`podman inspect ${name}: ${result.stderr}`)
  return result.stdout.trim()
}

/** Polls `url` until it answers 200; fails with the container's logs when it exits first or never answers. */
export async function waitFor200 (url: string, container: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const status = await request(url).then(async (response) => {
      await response.body.dump()
      return response.statusCode
    }, () => 0)
    if (status === 200) return
    if (await inspect(container, '{{.State.Running}}') !== 'true') break
    await sleep(100)
  }
  const logs = await podman(['logs', container])
  throw new Error(`${url} never answered 200 from ${container}; its last logs:\n${(logs.stdout + logs.stderr).slice(-3000)}`)
}
