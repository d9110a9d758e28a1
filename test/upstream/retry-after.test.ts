import t from 'tap'
import { parseRetryAfter } from '../../src/upstream/retry-after.ts'

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0) // Mon, 01 Jan 2024 12:00:00 GMT

t.test('delta-seconds is a wait in milliseconds', async (t) => {
  t.equal(parseRetryAfter('0', NOW), 0)
  t.equal(parseRetryAfter('3', NOW), 3000)
  t.equal(parseRetryAfter(' 120 ', NOW), 120_000, 'surrounding whitespace is allowed')
  t.equal(parseRetryAfter(['7'], NOW), 7000, 'a single header given as an array')
})

t.test('an HTTP-date is the time left until then', async (t) => {
  t.equal(parseRetryAfter('Mon, 01 Jan 2024 12:00:05 GMT', NOW), 5000, 'IMF-fixdate')
  t.equal(parseRetryAfter('Monday, 01-Jan-24 12:00:07 GMT', NOW), 7000, 'RFC 850, two-digit year in this century')
  t.equal(parseRetryAfter('Mon Jan  1 12:00:09 2024', NOW), 9000, 'asctime, space-padded day')
  t.equal(parseRetryAfter('Tue, 02 Jan 2024 12:00:00 GMT', NOW), 86_400_000)
})

t.test('a date in the past means no wait', async (t) => {
  t.equal(parseRetryAfter('Sun, 31 Dec 2023 23:59:59 GMT', NOW), 0)
  t.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 0, 'RFC 850 year 94 is 1994, not 2094')
})

t.test('junk, absent and repeated headers are refused', async (t) => {
  for (const junk of [
    '', ' ', '-1', '1.5', '1e3', '+5', '0x10', 'soon', '5 seconds',
    '2024-01-01T12:00:05Z', // ISO 8601 is not an HTTP-date
    'Mon, 01 Jan 2024 12:00:05 UTC',
    'Mon, 1 Jan 2024 12:00:05 GMT',
    'Mon, 31 Feb 2024 12:00:05 GMT', // no such day
    'Mon, 01 Foo 2024 12:00:05 GMT',
    'Mon, 01 Jan 2024 25:00:05 GMT',
    'Mon, 00 Jan 2024 12:00:05 GMT',
    'Jan 2024' // Date.parse would read this as 1 Jan 2024
  ]) {
    t.equal(parseRetryAfter(junk, NOW), null, JSON.stringify(junk))
  }
  t.equal(parseRetryAfter(undefined, NOW), null)
  t.equal(parseRetryAfter(null, NOW), null)
  t.equal(parseRetryAfter(['1', '2'], NOW), null, 'two Retry-After headers')
  t.equal(parseRetryAfter([], NOW), null)
})
