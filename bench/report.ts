/** What a run prints and writes: tables, ratios, the machine, the problems that void it, the profiles. */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { cpus, freemem, hostname, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { EXPORT_ROWS } from './export-measure.ts'
import type { PhaseResult, TargetResult } from './phases.ts'
import type { Options, TargetName } from './options.ts'
import { formatProfileSummary, summariseProfile, type CpuProfile, type ProfileSummary } from './profile-summary.ts'

export const fixed = (value: number | null | undefined, digits = 2): string => value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits)

export function table (headings: string[], rows: string[][]): string {
  const widths = headings.map((heading, i) => Math.max(heading.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((cell, i) => i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)).join('  ')
  return [line(headings), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n')
}

function saturatedTable (results: TargetResult[]): string {
  return table(
    ['target', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'errors', 'non-2xx', 'cuts', 'peak RSS MiB', 'CPU% server', 'server CPU µs/req', 'CPU% sim', 'CPU% loadgen', 'CPU% pg', 'CPU% other'],
    results.filter((r) => r.saturated !== undefined).map(({ name, saturated: s, peakRssMiB: rss }) => {
      const run = s as PhaseResult
      return [name, String(run.requestsPerSecond), fixed(run.latencyMs.p50), fixed(run.latencyMs.p97_5), fixed(run.latencyMs.p99),
        String(run.errors), String(run.non2xx), String(run.cutsAtPlatform), fixed(rss, 1), fixed(run.cpuPercent.server, 0),
        run.cpuPercent.server === null || run.requestsPerSecond === 0 ? '-' : String(Math.round(run.cpuPercent.server * 10_000 / run.requestsPerSecond)), fixed(run.cpuPercent.simulator, 0),
        fixed(run.cpuPercent.loadGenerator, 0), fixed(run.cpuPercent.postgres, 0), fixed(run.cpuPercent.other, 0)]
    }))
}

function fixedRateTable (results: TargetResult[], bare: TargetResult | undefined): string {
  return table(
    ['target', 'req/s', 'p50 ms', 'p97.5 ms', 'p99 ms', 'added p99 vs bare', 'errors', 'non-2xx', 'CPU% server', 'CPU% other'],
    results.filter((r) => r.fixedRate !== undefined).map(({ name, fixedRate: f }) => {
      const run = f as PhaseResult
      const added = bare?.fixedRate !== undefined && name !== 'bare' && name !== 'direct' ? run.latencyMs.p99 - bare.fixedRate.latencyMs.p99 : null
      return [name, String(run.requestsPerSecond), fixed(run.latencyMs.p50), fixed(run.latencyMs.p97_5), fixed(run.latencyMs.p99), added === null ? '' : `${added >= 0 ? '+' : ''}${fixed(added)}`,
        String(run.errors), String(run.non2xx), fixed(run.cpuPercent.server, 0), fixed(run.cpuPercent.other, 0)]
    }))
}

/** Per pair: each round's ratio of saturated rates (the same round of both), and their median. */
export interface Ratios { [pair: string]: { median: number, rounds: number[] } }

export function ratiosOf (results: TargetResult[]): Ratios {
  const rounds = (name: TargetName): PhaseResult[] => results.find((r) => r.name === name)?.saturatedRounds ?? []
  const ratios: Ratios = {}
  for (const livecut of results.filter((r) => r.name.startsWith('livecut'))) {
    // The traced target is compared with the same target untraced too: what tracing costs.
    for (const reference of livecut.name === 'livecut-sqlite-traced' ? ['bare', 'direct', 'livecut-sqlite'] as const : ['bare', 'direct'] as const) {
      const other = rounds(reference)
      const each = rounds(livecut.name).flatMap((run, i) => {
        const base = other[i]?.requestsPerSecond ?? 0
        return base > 0 ? [Math.round(run.requestsPerSecond / base * 1000) / 1000] : []
      })
      if (each.length > 0) ratios[`${livecut.name} / ${reference}`] = { median: medianBy(each, (ratio) => ratio), rounds: each }
    }
  }
  return ratios
}

/** The middle item by `key` (the lower middle of an even count). */
export function medianBy<T> (items: readonly T[], key: (item: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b))
  return sorted[Math.floor((sorted.length - 1) / 2)] as T
}

export function machine () {
  const cpuList = cpus()
  return {
    hostname: hostname(),
    nproc: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3 * 10) / 10,
    freeMemoryGiB: Math.round(freemem() / 1024 ** 3 * 10) / 10,
    node: process.version,
    kernel: release()
  }
}

/** Profiles are written when the servers exit: each is kept beside the report and summarised. */
export function keepProfiles (results: TargetResult[], profileDirs: Map<TargetName, string | null>, out: string, stamp: string): void {
  for (const result of results) {
    const dir = profileDirs.get(result.name)
    if (dir === null || dir === undefined) continue
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
    if (file === undefined) continue
    // .json: bench/results/*.json is git-ignored; the content is a V8 .cpuprofile.
    const kept = join(out, `${stamp}-${result.name}.cpuprofile.json`)
    copyFileSync(join(dir, file), kept)
    result.profile = { file: kept, summary: summariseProfile(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile, 20) }
  }
}

/** Every request counted must have been a real, audited cut: what says otherwise. */
export function problemsOf (results: TargetResult[], soakProblem: string | null | undefined): string[] {
  const problems: string[] = []
  if (soakProblem != null) problems.push(`soak: ${soakProblem}`)
  for (const r of results) {
    const phases = [
      ...(r.saturatedRounds ?? []).map((run, i) => [`saturated, round ${i + 1}`, run] as const),
      ...(r.fixedRateRounds ?? []).map((run, i) => [`fixed rate, round ${i + 1}`, run] as const)
    ]
    for (const [phase, run] of phases) {
      if (run?.problem != null) problems.push(`${r.name} (${phase}): ${run.problem}`)
    }
    for (const q of r.auditQueries ?? []) if (q.problem !== null) problems.push(`${r.name} audit query ${q.kind}: ${q.problem}`)
    for (const e of r.exports ?? []) if (e.problem !== null) problems.push(`${r.name} export ${e.kind} (${e.format}): ${e.problem}`)
    const v = r.verification
    for (const [name, problem] of [['CLI verify', v?.cli.problem], ['HTTP verify', v?.http.problem], ['one-thread verify', v?.oneThread.problem],
      ['CLI incremental verify from half', v?.incremental.cliFromHalf.problem], ['CLI incremental verify from the newest checkpoint', v?.incremental.cliFromNewest.problem],
      ['HTTP incremental verify', v?.incremental.http.problem], ['cuts during verifies', v?.cutsAtFixedRate.problem]]) {
      if (problem != null) problems.push(`${r.name} ${name}: ${problem}`)
    }
    if (r.auditedSucceeded !== undefined) {
      const ok = [...(r.saturatedRounds ?? []), ...(r.fixedRateRounds ?? [])].reduce((sum, run) => sum + (run.statusCodes['200'] ?? 0), 0)
      if (r.auditedSucceeded < ok) problems.push(`${r.name}: ${ok} answers 200 but only ${r.auditedSucceeded} succeeded entries in the audit trail`)
    }
  }
  return problems
}

/** The summary tables after the load phases. */
export function printSummary (log: (line: string) => void, options: Options, results: TargetResult[], ratios: Ratios): void {
  log(`\nsaturated: ${options.connections} connections, ${options.duration} s per target (after ${options.warmup} s warm-up); latency at the client`)
  log(saturatedTable(results))
  for (const r of results.filter((r) => r.skipped !== undefined)) log(`${r.name}: skipped — ${r.skipped}`)
  log('')
  for (const [pair, ratio] of Object.entries(ratios)) {
    const rounds = ratio.rounds.length > 1 ? ` (median of the rounds: ${ratio.rounds.map((r) => r.toFixed(3)).join(', ')})` : ''
    log(`${pair}: ${ratio.median.toFixed(3)}× req/s${rounds}`)
  }
  const bare = results.find((r) => r.name === 'bare')
  if (results.some((r) => r.fixedRate !== undefined)) {
    log(`\nat the same load: ${results.find((r) => r.fixedRate !== undefined)?.fixedRate?.requestsPerSecond ?? '?'} req/s achieved (target rate ${options.rate}), ${options.connections} connections, ${options.duration} s`)
    log(fixedRateTable(results, bare))
  }
  for (const r of results.filter((r) => r.auditQueries !== undefined)) {
    log(`\nreview API on ${r.name} (${r.description}): ${options.queries} queries per kind, one connection, limit 50`)
    log(table(['query', 'p50 ms', 'p97.5 ms', 'p99 ms', 'max ms', 'items/page'], (r.auditQueries ?? []).map((q) =>
      [q.kind, fixed(q.latencyMs.p50), fixed(q.latencyMs.p97_5), fixed(q.latencyMs.p99), fixed(q.latencyMs.max), String(q.meanItems)])))
  }
  for (const r of results.filter((r) => r.exports !== undefined)) {
    log(`\nexports on ${r.name} (${r.description}): one at a time, each read to its end or its first ${EXPORT_ROWS.toLocaleString('en')} rows`)
    log(table(['filter', 'format', 'first byte ms', 'rows', 'rows/s'], (r.exports ?? []).map((e) =>
      [e.kind, e.format, fixed(e.firstByteMs), `${e.rows}${e.complete ? ' (all)' : ''}`, String(e.rowsPerSecond)])))
  }
  for (const r of results.filter((r) => r.profile !== undefined)) {
    log(`\n${formatProfileSummary(r.profile?.summary as ProfileSummary, `CPU profile of ${r.name} (${r.profile?.file})`)}`)
  }
}
