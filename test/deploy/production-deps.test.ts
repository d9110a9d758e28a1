import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import { parse } from 'yaml'

// The image has production dependencies only and the files the Dockerfile copies (package.json
// and src/). Whatever the container runs (the Dockerfile's CMD, the compose commands) must load
// nothing else: this follows their runtime imports, as Node would, through the sources.

const root = fileURLToPath(new URL('../../', import.meta.url))
const packageJson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}
const dependencies = new Set(Object.keys(packageJson.dependencies ?? {}))

/** Module specifiers a file loads at run time: type-only imports and exports are erased by type stripping. */
function runtimeSpecifiers (file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const specifiers: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.importClause?.isTypeOnly !== true) {
      specifiers.push(node.moduleSpecifier.text)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      specifiers.push(node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments
      // A computed dynamic import cannot be followed: report it so that it is looked at.
      specifiers.push(argument !== undefined && ts.isStringLiteralLike(argument) ? argument.text : '<computed import()>')
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return specifiers
}

function packageName (specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] as string
}

/** Every file reached from the entry points, and every package (by name) those files load. */
function importGraph (entries: string[]): { files: Set<string>, packages: Map<string, string> } {
  const files = new Set<string>()
  const packages = new Map<string, string>()
  const queue = entries.map((entry) => pathToFileURL(`${root}${entry}`).href)
  while (queue.length > 0) {
    const url = queue.shift() as string
    if (files.has(url)) continue
    files.add(url)
    const path = fileURLToPath(url)
    if (!existsSync(path) || !path.endsWith('.ts')) continue
    for (const specifier of runtimeSpecifiers(path)) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) queue.push(new URL(specifier, url).href)
      else if (!isBuiltin(specifier)) packages.set(packageName(specifier), path.slice(root.length))
    }
  }
  return { files, packages }
}

/** The commands the image runs: the Dockerfile's CMD and the node commands of compose services. */
function entryPoints (): string[] {
  const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8')
  const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].at(-1)?.[1]
  const entries: string[] = []
  if (cmd !== undefined) entries.push((JSON.parse(cmd) as string[])[1] as string)
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8')) as { services?: Record<string, { command?: unknown }> }
  for (const service of Object.values(compose.services ?? {})) {
    if (Array.isArray(service.command) && service.command[0] === 'node') entries.push(String(service.command[1]))
  }
  return entries
}

t.test('the type-only filter and the package names are read right', async (t) => {
  t.equal(packageName('@fastify/jwt'), '@fastify/jwt')
  t.equal(packageName('@fastify/type-provider-typebox/sub'), '@fastify/type-provider-typebox')
  t.equal(packageName('undici'), 'undici')
  const simulatorApp = runtimeSpecifiers(`${root}src/simulator/simulator-app.ts`)
  t.ok(simulatorApp.includes('fastify'), 'a value import is kept')
  t.notOk(simulatorApp.includes('@fastify/type-provider-typebox'), 'an `import type` is erased')
})

t.test('what the container runs loads only production dependencies and files the image holds', async (t) => {
  const entries = entryPoints()
  t.ok(entries.includes('src/server.ts'), 'the Dockerfile\'s CMD: src/server.ts')
  t.ok(entries.includes('src/simulator/server.ts'), 'the compose simulator: src/simulator/server.ts')

  const { files, packages } = importGraph(entries)
  t.ok(files.size > entries.length, `followed ${files.size} files`)
  for (const url of files) {
    const path = fileURLToPath(url).slice(root.length)
    t.ok(existsSync(fileURLToPath(url)), `${path} exists`)
    t.ok(path.startsWith('src/'), `${path} is under src/, which the image copies`)
  }
  t.ok(packages.size > 0, 'packages are imported')
  for (const [name, importer] of packages) {
    t.ok(dependencies.has(name), `${name} (imported by ${importer}) is a production dependency, installed by npm ci --omit=dev`)
  }
})
