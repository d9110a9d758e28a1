import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import ts from 'typescript'

const root = new URL('../..', import.meta.url).pathname
const clientDir = `${root}clients/typescript`
const bin = (name: string): string => `${root}node_modules/.bin/${name}`
const run = promisify(execFile)

t.test('the committed client types are the generated ones (npm run client:generate)', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'livecut-client-types-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  // From the committed openapi.yaml, as `npm run client:generate` does it.
  await run(bin('openapi-typescript'), ['openapi.yaml', '-o', join(out, 'openapi.d.ts')], { cwd: root })
  // The declarations of the client's JavaScript, from its JSDoc.
  await run(bin('tsc'), ['-p', clientDir, '--declarationDir', out], { cwd: root })
  const committed = readdirSync(`${clientDir}/types`).sort()
  t.same(readdirSync(out).sort(), committed, 'the same files')
  for (const file of committed) {
    t.equal(readFileSync(`${clientDir}/types/${file}`, 'utf8'), readFileSync(join(out, file), 'utf8'), `types/${file} is up to date`)
  }
})

t.test('the type-level test: without its @ts-expect-error markers, each marked call is a type error', async (t) => {
  const file = `${root}test/client/request-bodies.types.ts`
  const source = readFileSync(file, 'utf8')
  const marked = source.split('\n').flatMap((line, index) => line.startsWith('// @ts-expect-error') ? [index + 1] : [])
  t.equal(marked.length, 6)
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('tsconfig.json could not be read')
  const compile = (text: string): readonly ts.Diagnostic[] => {
    const host = ts.createCompilerHost(config.options)
    const getSourceFile = host.getSourceFile.bind(host)
    host.getSourceFile = (name, languageVersion, ...rest) => name === file ? ts.createSourceFile(name, text, languageVersion) : getSourceFile(name, languageVersion, ...rest)
    return ts.getPreEmitDiagnostics(ts.createProgram([file], config.options, host))
  }
  t.same(compile(source).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'as committed, it compiles')

  // Blank the markers, keeping line numbers: each call below one must now fail.
  const unmarked = compile(source.replace(/^\/\/ @ts-expect-error.*$/gm, ''))
  const lines = unmarked.map((d) => d.file?.getLineAndCharacterOfPosition(d.start ?? 0).line ?? -1).map((line) => line + 1)
  t.same([...new Set(lines)].sort((a, b) => a - b), marked.map((line) => line + 1), 'an error on each marked line')
  const messages = unmarked.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')
  t.match(messages, /'startMS' does not exist/, 'the typo is named')
  t.match(messages, /"secret"/)
  t.match(messages, /"unknown"/, 'outcome unknown is refused')
  t.match(messages, /'note' is missing/)
  t.match(messages, /'by' does not exist/)
})
