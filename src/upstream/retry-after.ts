const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)'
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)'
const MONTH = `(${MONTHS.join('|')})`
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})'

// The three HTTP-date forms every recipient must accept (RFC 9110 §5.6.7).
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`)
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`)
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`)

/**
 * How long a `Retry-After` header asks the client to wait, in milliseconds, or null when the
 * header is absent, repeated or not one of its two forms (delta-seconds, HTTP-date).
 * A date in the past means 0. `nowMs` is the wall clock the date is compared with.
 */
export function parseRetryAfter (headerValue: string | string[] | null | undefined, nowMs: number): number | null {
  if (Array.isArray(headerValue)) {
    if (headerValue.length !== 1) return null
    headerValue = headerValue[0]
  }
  if (typeof headerValue !== 'string') return null
  const text = headerValue.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const dateMs = parseHttpDate(text, nowMs)
  if (dateMs === null) return null
  return Math.max(0, dateMs - nowMs)
}

/** An HTTP-date as epoch milliseconds, or null; Date.parse is not used because it accepts almost anything. */
function parseHttpDate (text: string, nowMs: number): number | null {
  let match = IMF_FIXDATE.exec(text)
  if (match !== null) {
    const [, day, month, year, hours, minutes, seconds] = match
    return utc(Number(year), month, day, hours, minutes, seconds)
  }
  match = RFC_850.exec(text)
  if (match !== null) {
    const [, day, month, shortYear, hours, minutes, seconds] = match
    return utc(fullYearOf(Number(shortYear), nowMs), month, day, hours, minutes, seconds)
  }
  match = ASCTIME.exec(text)
  if (match !== null) {
    const [, month, day, hours, minutes, seconds, year] = match
    return utc(Number(year), month, day, hours, minutes, seconds)
  }
  return null
}

/** RFC 9110: a two-digit year that would be more than 50 years in the future is in the past century. */
function fullYearOf (shortYear: number, nowMs: number): number {
  const currentYear = new Date(nowMs).getUTCFullYear()
  const century = Math.floor(currentYear / 100) * 100
  const year = century + shortYear
  return year > currentYear + 50 ? year - 100 : year
}

function utc (year: number, monthName: string | undefined, dayText: string | undefined,
  hoursText: string | undefined, minutesText: string | undefined, secondsText: string | undefined): number | null {
  const month = MONTHS.indexOf(monthName ?? '')
  const day = Number(dayText)
  const hours = Number(hoursText)
  const minutes = Number(minutesText)
  const seconds = Number(secondsText)
  // 60 is a leap second: allowed by the grammar, folded into the next minute by Date.UTC.
  if (month < 0 || hours > 23 || minutes > 59 || seconds > 60) return null
  // Rejects 31 Feb and the like, which Date.UTC would roll over into the next month.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null
  return Date.UTC(year, month, day, hours, minutes, seconds)
}
