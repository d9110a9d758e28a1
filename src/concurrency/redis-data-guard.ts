/**
 * Notices that Redis may have lost data, and keeps the idempotency keys and video locks shut
 * until the locks it lost can no longer matter.
 *
 * A Redis that restarts without persistence comes back empty; one with `appendfsync everysec`
 * may lose its last second, a replica that took over may lag: the lock of a cut still at the
 * platform, and its in-flight Idempotency-Key, can be gone, so the same video could be cut a
 * second time. After every (re)connect the guard compares the server's `run_id` (INFO server)
 * with the one it saw, and reads an epoch key it writes once and never expires
 * (`<prefix>epoch`): a new run_id (a restart or a failover), or an epoch that is gone or is not
 * the one this instance saw, means data may be lost. Then a quarantine key is written that
 * lives for one lease (`<prefix>quarantine`, PX lease); every instance that reads it refuses new
 * cuts (fail closed: 503) for what is left of it. A lease outlasts the longest cut, so by its
 * end every cut whose lock was lost is over.
 *
 * Until the check after a connect has answered, the stores fail closed too. A freshly started
 * instance that finds no epoch at all cannot tell a first start from a loss; it writes the epoch
 * and trusts Redis (it holds no cut of its own from before), but honours a quarantine another
 * instance wrote.
 */
import type { Redis } from 'ioredis'
import { ConcurrencyStoreUnavailableError, type ConcurrencyStoreKind } from './errors.ts'
import { newToken, positiveMs } from './internal.ts'
import { REDIS_KEY_PREFIX, RedisScript } from './redis-connection.ts'

// KEYS epoch, quarantine; ARGV new epoch, the epoch this instance saw ('' for none), quarantine
// ms, '1' when the server restarted since this instance last saw it.
const CHECK = new RedisScript(`
local suspect = ARGV[4] == '1'
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  if ARGV[2] ~= '' then suspect = true end
end
if suspect then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) end
return { epoch, redis.call('PTTL', KEYS[2]) }
`)
const RUN_ID = /^run_id:(\w+)/m

export interface RedisDataGuardOptions {
  /** From `createRedisConnection()`; the guard never closes it. */
  redis: Redis
  /** Prefix of its keys. Default `REDIS_KEY_PREFIX`. */
  prefix?: string
  /** How long cuts are refused after a loss: the lease of a lock and of an in-flight key. */
  quarantineMs: number
  /** Clock in ms; tests tick it. Default `Date.now`. */
  now?: () => number
  /** Told, with the quarantine left, when this instance finds that Redis may have lost data (for the log and metrics). */
  onDataLoss?: (quarantineMs: number) => void
}

export class RedisDataGuard {
  readonly #redis: Redis
  readonly #keys: [epoch: string, quarantine: string]
  readonly #quarantineMs: number
  readonly #now: () => number
  readonly #onDataLoss: (quarantineMs: number) => void
  #epoch: string | null = null
  #runId: string | null = null
  /** Bumped on every disconnect: a check that straddles one proves nothing. */
  #connection = 0
  #checked = false
  #checking: Promise<void> | null = null
  #quarantinedUntil = -Infinity

  constructor (options: RedisDataGuardOptions) {
    this.#redis = options.redis
    const prefix = options.prefix ?? REDIS_KEY_PREFIX
    this.#keys = [`${prefix}epoch`, `${prefix}quarantine`]
    this.#quarantineMs = positiveMs('quarantineMs', options.quarantineMs)
    this.#now = options.now ?? Date.now
    this.#onDataLoss = options.onDataLoss ?? (() => {})
    // Whatever the server is after a reconnect, it is checked before it is trusted again.
    this.#redis.on('close', () => {
      this.#connection += 1
      this.#checked = false
    })
    this.#redis.on('ready', () => { this.#check().catch(() => {}) })
    if (this.#redis.status === 'ready') this.#check().catch(() => {})
  }

  /** Milliseconds of quarantine left (0 when none), as of the last check. */
  quarantineLeftMs (): number {
    return Math.max(0, this.#quarantinedUntil - this.#now())
  }

  /** Resolves when new keys and locks may be taken; rejects (fail closed) while unchecked or quarantined. */
  async assertTrusted (store: ConcurrencyStoreKind, operation: string): Promise<void> {
    if (!this.#checked) {
      try {
        await this.#check()
      } catch (error) {
        throw new ConcurrencyStoreUnavailableError(store, operation, error)
      }
      if (!this.#checked) throw new ConcurrencyStoreUnavailableError(store, operation, 'Redis reconnected while its data was being checked')
    }
    const left = this.quarantineLeftMs()
    if (left > 0) throw new ConcurrencyStoreUnavailableError(store, operation, `Redis restarted or lost data; new cuts wait ${Math.ceil(left / 1000)} s more for the leases of locks it may have lost`)
  }

  #check (): Promise<void> {
    this.#checking ??= this.#runCheck().finally(() => { this.#checking = null })
    return this.#checking
  }

  /** The server's run_id; '' where an ACL forbids INFO (the epoch alone then tells a loss). */
  async #serverRunId (): Promise<string> {
    try {
      return RUN_ID.exec(await this.#redis.info('server'))?.[1] ?? ''
    } catch (error) {
      if (error instanceof Error && error.message.includes('NOPERM')) return ''
      throw error
    }
  }

  async #runCheck (): Promise<void> {
    const seen = this.#epoch
    const connection = this.#connection
    const runId = await this.#serverRunId()
    const restarted = this.#runId !== null && runId !== this.#runId
    const reply = await CHECK.run(this.#redis, this.#keys, [newToken(), seen ?? '', this.#quarantineMs, restarted ? '1' : '0'])
    const [epoch, quarantineTtl] = reply as [string, number]
    if (restarted || (seen !== null && epoch !== seen)) this.#onDataLoss(Math.max(0, quarantineTtl))
    this.#epoch = epoch
    this.#runId = runId
    this.#quarantinedUntil = this.#now() + Math.max(0, quarantineTtl)
    this.#checked = connection === this.#connection
  }
}
