// The part of autocannon 9's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface AutocannonRequest {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest | undefined
  }

  interface AutocannonOptions {
    url: string
    connections?: number
    duration?: number
    amount?: number
    overallRate?: number
    ignoreCoordinatedOmission?: boolean
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: AutocannonRequest[]
  }

  interface Histogram {
    average: number
    p50: number
    p97_5: number
    p99: number
    max: number
  }

  interface AutocannonResult {
    requests: Histogram
    latency: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    resets: number
    mismatches: number
    '2xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  interface Instance extends EventEmitter, PromiseLike<AutocannonResult> {
    stop: () => void
  }

  function autocannon (options: AutocannonOptions): Instance
  export default autocannon
  export type { AutocannonOptions, AutocannonRequest, AutocannonResult }
}
