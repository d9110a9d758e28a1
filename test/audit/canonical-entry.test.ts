import canonicalize from 'canonicalize'
import fc from 'fast-check'
import t from 'tap'
import type { AuditEntry } from '../../src/audit/audit-entry.ts'
import { canonicalEntry, prepareRecord } from '../../src/audit/audit-chain.ts'
import { knownEntryCanonical } from '../../src/audit/canonical-entry.ts'
import { makeEntry } from '../helpers/audit-fixtures.ts'

// The entry serialiser against the generic `canonicalize` (the reference), byte for byte, over
// generated entries: strings of any code point (control characters, quotes, backslashes, line
// and paragraph separators, astral characters, lone surrogates), nulls where the schema allows
// them, every kind of number, and entries just off the known shape (a key missing or added, a
// value of another type). Fixed seeds: the same cases every run.

const RUNS = 3000

const char = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('"', '\\', '/', '\u007f', '\u2028', '\u2029', '\ufeff', '😀', 'é')
)
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))
/** Well-formed text; one string in 100 carries a lone surrogate somewhere. */
const text = fc.oneof(
  { weight: 99, arbitrary: fc.string({ unit: char, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: char, maxLength: 6 }), loneSurrogate, fc.string({ unit: char, maxLength: 6 })).map((parts) => parts.join('')) }
)
const nullable = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(arbitrary, { nil: null, freq: 3 })
/** Mostly integers, as the schema has them there; sometimes any double (fractions, -0, NaN, ±Infinity). */
const integerish = fc.oneof({ weight: 4, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.maxSafeInteger() }, { weight: 1, arbitrary: fc.double() })
const anyNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 0.1 + 0.2, 1e21, 1e-7, 5e-324, Number.MAX_VALUE))

const entryShaped: fc.Arbitrary<Record<string, unknown>> = fc.record({
  id: text,
  requestId: text,
  time: text,
  actor: fc.record({ sub: nullable(text), clientId: nullable(text), ip: text, userAgent: nullable(text) }),
  action: fc.constantFrom('live-video.stop-and-cut'),
  projectId: nullable(text),
  videoId: nullable(text),
  request: fc.record({
    cut: nullable(fc.record({ startMs: nullable(integerish), endMs: nullable(integerish), startTime: nullable(text), endTime: nullable(text) })),
    visibility: nullable(text),
    idempotencyKey: nullable(text)
  }),
  outcome: fc.constantFrom('succeeded', 'rejected', 'failed', 'unknown'),
  status: nullable(integerish),
  reason: nullable(text),
  upstream: nullable(fc.record({ attempts: integerish, statuses: fc.array(integerish, { maxLength: 4 }), latencyMs: nullable(anyNumber) })),
  videoPublicId: nullable(text),
  durationMs: nullable(anyNumber)
})

/** Off the known shape at the top level: a key dropped, a key added, a value of another type. */
const offShape = fc.tuple(entryShaped, fc.nat(), fc.oneof(text, anyNumber, fc.boolean(), fc.constant(undefined), fc.array(text, { maxLength: 2 }), fc.constant({}))).map(([entry, pick, value]) => {
  const keys = Object.keys(entry)
  const key = keys[pick % keys.length] as string
  const changed: Record<string, unknown> = { ...entry }
  if (pick % 3 === 0) delete changed[key]
  else if (pick % 3 === 1) changed[`x${key}`] = value
  else changed[key] = value
  return changed
})

const attempt = (serialise: () => string | undefined): string => {
  try {
    return serialise() ?? 'undefined'
  } catch {
    return 'throws'
  }
}

t.test('the entry serialiser writes exactly what canonicalize writes, or leaves the entry to it', async (t) => {
  let known = 0
  let refused = 0
  const details = fc.check(fc.property(fc.oneof({ weight: 3, arbitrary: entryShaped }, { weight: 1, arbitrary: offShape }), (entry) => {
    const reference = attempt(() => canonicalize(entry))
    const fast = knownEntryCanonical(entry)
    if (fast !== null) known++
    if (reference === 'throws') refused++
    if (fast !== null && fast !== reference) return false
    return attempt(() => canonicalEntry(entry)) === (reference === 'undefined' ? 'throws' : reference)
  }), { seed: 0x8785, numRuns: RUNS })
  t.equal(details.failed, false, fc.defaultReportMessage(details) ?? '')
  // Not vacuous: most cases take the direct path, and lone surrogates and NaN are met and refused.
  t.ok(known > RUNS / 3, `${known} of ${RUNS} written directly`)
  t.ok(refused > RUNS / 20, `${refused} of ${RUNS} refused by both`)
})

t.test('prepareRecord: entries of the known shape hash as the stored JSON read back would', async (t) => {
  const valid = entryShaped.map((entry): AuditEntry => ({ ...entry, id: `e-${String(entry.id).length}`, time: '2025-01-01T00:00:00.000Z' }) as unknown as AuditEntry)
  const details = fc.check(fc.property(valid, (entry) => {
    // The way every record was prepared before the serialiser: JSON written, read back, canonicalize.
    const body = JSON.stringify(entry)
    const reference = attempt(() => canonicalize(JSON.parse(body)))
    const lossy = /NaN|Infinity/.test(String([entry.durationMs, entry.upstream?.latencyMs, entry.status, entry.upstream?.attempts, entry.upstream?.statuses, entry.request.cut?.startMs, entry.request.cut?.endMs]))
    let prepared: ReturnType<typeof prepareRecord>
    try {
      prepared = prepareRecord(entry, true)
    } catch (error) {
      return (error as { code?: string }).code === 'AUDIT_INVALID_ENTRY' && (reference === 'throws' || lossy)
    }
    return !lossy && prepared.body === body && prepared.canonicalEntry === reference
  }), { seed: 0x1d, numRuns: RUNS })
  t.equal(details.failed, false, fc.defaultReportMessage(details) ?? '')
})

t.test('the known shape, exactly: what leaves the direct path', async (t) => {
  const entry = makeEntry(1)
  t.equal(knownEntryCanonical(entry), canonicalize(entry), 'the fixture entry is of the known shape')
  const off: Array<[string, unknown]> = [
    ['a fractional status', { ...entry, status: 200.5 }],
    ['an unsafe integer', { ...entry, request: { ...entry.request, cut: { ...entry.request.cut, startMs: 2 ** 53 } } }],
    ['an undefined field', { ...entry, reason: undefined }],
    ['a hole in statuses', { ...entry, upstream: { ...entry.upstream, statuses: [200, , 503] } }], // eslint-disable-line no-sparse-arrays
    ['a Date for the time', { ...entry, time: new Date(0) }],
    ['an object with a toJSON', { ...entry, actor: { ...entry.actor, toJSON: () => 'x' } }],
    ['a class instance', Object.assign(Object.create({ inherited: 1 }), entry)],
    ['a lone surrogate', { ...entry, reason: 'x\udc00' }],
    ['a resolution inside', { ...entry, resolution: null }]
  ]
  for (const [label, value] of off) t.equal(knownEntryCanonical(value), null, label)
})
