/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the time went: self time per
 * function, self time per place (our src files, each package, Node's internals, native code,
 * GC, idle), and total (inclusive) time of our own functions.
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
export interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface ProfileRow {
  name: string
  where: string
  ms: number
  percent: number
}

export interface ProfileSummary {
  totalMs: number
  /** Share of the sampled time the thread was idle (waiting in the event loop); the other percentages are of the busy time. */
  idlePercent: number
  busyMs: number
  selfByFunction: ProfileRow[]
  selfByPlace: ProfileRow[]
  /** Our own functions (src/), by time spent in them and everything they called. */
  totalBySrcFunction: ProfileRow[]
}

/** Where a frame's code lives: src/<file>, a package name, node:internal, native, or a V8 pseudo-frame. */
export function placeOf (frame: CallFrame): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (V8/C++ builtins, e.g. sqlite, crypto)'
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (packageMatch !== null) return packageMatch[1] as string
  if (url.startsWith('node:')) return 'node:internal'
  const srcMatch = /\/(src|bench|test)\/(.+)$/.exec(url)
  if (srcMatch !== null) return `${srcMatch[1]}/${srcMatch[2]}`
  return url
}

function frameLabel (frame: CallFrame): { name: string, where: string } {
  const place = placeOf(frame)
  return {
    name: frame.functionName === '' ? '(anonymous)' : frame.functionName,
    where: frame.url === '' ? place : `${place}:${frame.lineNumber + 1}`
  }
}

export function summariseProfile (profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)

  // Sample i lasted until sample i + 1; the last one gets the mean interval.
  const { samples, timeDeltas } = profile
  const meanDelta = samples.length > 1 ? (profile.endTime - profile.startTime) / samples.length : 0
  const durationUs = (i: number): number => Math.max(0, i + 1 < timeDeltas.length ? timeDeltas[i + 1] as number : meanDelta)

  const selfByFunction = new Map<string, { name: string, where: string, us: number }>()
  const selfByPlace = new Map<string, number>()
  const totalBySrc = new Map<string, { name: string, where: string, us: number }>()
  let totalUs = 0
  let idleUs = 0
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] as number)
    if (node === undefined) continue
    const us = durationUs(i)
    totalUs += us
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us
      continue
    }
    const label = frameLabel(node.callFrame)
    const key = `${label.name}@${label.where}`
    const self = selfByFunction.get(key) ?? { ...label, us: 0 }
    self.us += us
    selfByFunction.set(key, self)
    const place = placeOf(node.callFrame)
    selfByPlace.set(place, (selfByPlace.get(place) ?? 0) + us)
    // Inclusive time: each src function on the stack once, however often it recurses.
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame
      if (!placeOf(frame).startsWith('src/')) continue
      const frameKey = `${frame.functionName}@${frame.url}:${frame.lineNumber}`
      if (seen.has(frameKey)) continue
      seen.add(frameKey)
      const entry = totalBySrc.get(frameKey) ?? { ...frameLabel(frame), us: 0 }
      entry.us += us
      totalBySrc.set(frameKey, entry)
    }
  }
  const busyUs = totalUs - idleUs
  const row = (name: string, where: string, us: number): ProfileRow =>
    ({ name, where, ms: Math.round(us / 100) / 10, percent: busyUs === 0 ? 0 : Math.round(us / busyUs * 1000) / 10 })
  const ranked = <T extends { us: number }>(values: Iterable<T>): T[] => [...values].sort((a, b) => b.us - a.us).slice(0, top)
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idlePercent: totalUs === 0 ? 0 : Math.round(idleUs / totalUs * 1000) / 10,
    selfByFunction: ranked(selfByFunction.values()).map(({ name, where, us }) => row(name, where, us)),
    selfByPlace: ranked([...selfByPlace].map(([place, us]) => ({ place, us }))).map(({ place, us }) => row(place, '', us)),
    totalBySrcFunction: ranked(totalBySrc.values()).map(({ name, where, us }) => row(name, where, us))
  }
}

export function formatProfileSummary (summary: ProfileSummary, title: string): string {
  const lines = [`${title}: ${summary.totalMs} ms sampled, ${summary.idlePercent}% idle; percentages below are of the ${summary.busyMs} ms busy`]
  const table = (heading: string, rows: ProfileRow[], withWhere: boolean): void => {
    lines.push('', `  ${heading}`)
    for (const r of rows) lines.push(`  ${r.percent.toFixed(1).padStart(5)}%  ${String(r.ms).padStart(8)} ms  ${r.name}${withWhere ? `  ${r.where}` : ''}`)
  }
  table('self time by place', summary.selfByPlace, false)
  table('self time by function', summary.selfByFunction, true)
  table('total time of src/ functions (self + callees)', summary.totalBySrcFunction, true)
  return lines.join('\n')
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } })
  if (positionals.length === 0) {
    console.error('usage: node bench/profile-summary.ts <file.cpuprofile> [--top 25]')
    process.exit(2)
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    console.log(formatProfileSummary(summariseProfile(profile, Number(values.top)), file))
  }
}
