import { once } from 'node:events'
import net from 'node:net'

/**
 * Resets `socket` (RST), or destroys it once its end() was called (its peer half-closed, so Node
 * ended it): until that FIN is sent (a later turn of the loop, or after the queued writes),
 * Node's resetAndDestroy() fails with EINVAL and leaves the handle open for good, and the process
 * then spins at exit (seen: a test file outlived its tap timeout after all its tests had passed).
 */
export function resetSocket (socket: net.Socket): void {
  if (socket.writableEnded) socket.destroy()
  else socket.resetAndDestroy()
}

/** One direction of a relayed connection: chunks wait here until their delivery time, in order. */
interface Pipe {
  to: net.Socket
  queue: Array<{ chunk: Buffer, at: number }>
  timer: NodeJS.Timeout | null
}

interface Link {
  client: net.Socket
  server: net.Socket | null
  up: Pipe | null
  down: Pipe
  /** What the client sent before the server side was connected. */
  early: Buffer[]
  /** The client closed while partitioned: the server learns it at `heal()`, as it would from the network. */
  closeOnHeal: boolean
  /** Reset as soon as the server's answer starts: see `loseAnswers`. */
  losesAnswer: boolean
}

/**
 * A TCP relay on an ephemeral loopback port, in front of a real server, for fault tests:
 * forwards both ways; `cutAll()` resets every connection; `partition()` lets nothing through
 * either way and accepts new connections without connecting them (the peers see silence, no
 * reset) until `heal()`; `setDelay(ms)` delays each chunk; `loseAnswers(n)` lets the next n
 * connections' requests through and resets them when the answer comes.
 */
export class FaultRelay {
  readonly #target: { host: string, port: number }
  readonly #links = new Set<Link>()
  readonly #server: net.Server
  #delayMs = 0
  #partitioned = false
  #accepted = 0
  #answersToLose = 0
  #answersLost = 0

  private constructor (target: { host: string, port: number }) {
    this.#target = target
    this.#server = net.createServer((client) => { this.#accept(client) })
  }

  /** Listening on 127.0.0.1 and an ephemeral port, relaying to `target`. */
  static async start (target: { host: string, port: number }): Promise<FaultRelay> {
    const relay = new FaultRelay(target)
    relay.#server.listen(0, '127.0.0.1')
    await once(relay.#server, 'listening')
    return relay
  }

  get port (): number { return (this.#server.address() as net.AddressInfo).port }
  /** Connections accepted so far. */
  get accepted (): number { return this.#accepted }
  /** Connections reset by `loseAnswers` so far. */
  get answersLost (): number { return this.#answersLost }
  /** Connections open right now. */
  get open (): number { return this.#links.size }

  /** `url` with its host and port replaced by the relay's. */
  relayUrl (url: string): string {
    const parsed = new URL(url)
    parsed.hostname = '127.0.0.1'
    parsed.port = String(this.port)
    return parsed.toString()
  }

  #accept (client: net.Socket): void {
    this.#accepted++
    const link: Link = { client, server: null, up: null, down: { to: client, queue: [], timer: null }, early: [], closeOnHeal: false, losesAnswer: this.#answersToLose > 0 }
    if (link.losesAnswer) this.#answersToLose--
    this.#links.add(link)
    client.on('error', () => {})
    client.on('data', (chunk: Buffer) => {
      if (link.up !== null) this.#send(link.up, chunk)
      else link.early.push(chunk)
    })
    client.on('close', () => {
      if (this.#partitioned && link.server !== null) link.closeOnHeal = true
      else this.#drop(link)
    })
    if (!this.#partitioned) this.#connect(link)
  }

  #connect (link: Link): void {
    const server = net.connect(this.#target)
    link.server = server
    link.up = { to: server, queue: [], timer: null }
    server.on('error', () => {})
    server.on('data', (chunk: Buffer) => {
      if (!link.losesAnswer) {
        this.#send(link.down, chunk)
        return
      }
      if (this.#links.has(link)) this.#answersLost++
      resetSocket(link.client)
      if (link.server !== null) resetSocket(link.server)
      this.#drop(link)
    })
    server.on('close', () => { if (!this.#partitioned) this.#drop(link) })
    for (const chunk of link.early.splice(0)) this.#send(link.up, chunk)
  }

  #send (pipe: Pipe, chunk: Buffer): void {
    // Never before the chunk ahead of it, so a change of delay keeps the stream in order.
    const last = pipe.queue.at(-1)?.at ?? 0
    pipe.queue.push({ chunk, at: Math.max(Date.now() + this.#delayMs, last) })
    this.#pump(pipe)
  }

  #pump (pipe: Pipe): void {
    if (pipe.timer !== null || this.#partitioned) return
    while (pipe.queue.length > 0) {
      const next = pipe.queue[0] as { chunk: Buffer, at: number }
      const wait = next.at - Date.now()
      if (wait > 0) {
        pipe.timer = setTimeout(() => { pipe.timer = null; this.#pump(pipe) }, wait)
        return
      }
      pipe.queue.shift()
      if (!pipe.to.destroyed) pipe.to.write(next.chunk)
    }
  }

  #drop (link: Link): void {
    for (const pipe of [link.up, link.down]) if (pipe?.timer != null) clearTimeout(pipe.timer)
    link.client.destroy()
    link.server?.destroy()
    this.#links.delete(link)
  }

  /** Every chunk from now on (and every one still waiting, at its turn) waits `ms` more. */
  setDelay (ms: number): void {
    this.#delayMs = ms
  }

  /**
   * The next `count` connections relay their requests, and are reset on both sides when the
   * server's answer starts to arrive: the server acted, the client never hears of it (a lost answer).
   */
  loseAnswers (count: number): void {
    this.#answersToLose = count
  }

  /** Resets both sides of every open connection, as a crashed host or a dropped route does. New ones are relayed. */
  cutAll (): void {
    for (const link of this.#links) {
      for (const pipe of [link.up, link.down]) if (pipe?.timer != null) clearTimeout(pipe.timer)
      resetSocket(link.client)
      if (link.server !== null) resetSocket(link.server)
      this.#links.delete(link)
    }
  }

  /** Nothing passes either way, nothing is reset: open connections go silent, new ones are accepted and never connected. */
  partition (): void {
    this.#partitioned = true
    for (const link of this.#links) {
      for (const pipe of [link.up, link.down]) {
        if (pipe?.timer != null) { clearTimeout(pipe.timer); pipe.timer = null }
      }
    }
  }

  /** Ends a partition: what was held is delivered, held connections are connected, closes that happened meanwhile reach the other side. */
  heal (): void {
    this.#partitioned = false
    for (const link of this.#links) {
      if (link.closeOnHeal || link.client.destroyed) { this.#drop(link); continue }
      if (link.server === null) this.#connect(link)
      else if (link.server.destroyed) { this.#drop(link); continue }
      for (const pipe of [link.up, link.down]) if (pipe !== null) this.#pump(pipe)
    }
  }

  /** Stops listening and resets what is still open. */
  async close (): Promise<void> {
    this.cutAll()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
