/** A clock that moves only when the test says so (starts at the real time, so dates stay plausible). */
export function manualClock (start = Date.now()): { now: () => number, tick: (ms: number) => void } {
  let time = start
  return {
    now: () => time,
    tick: (ms) => { time += ms }
  }
}
