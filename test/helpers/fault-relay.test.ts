import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { FaultRelay, resetSocket } from './fault-relay.ts'

/** A loopback echo server that counts the connections it accepted and knows which are open. */
async function startEcho (t: Test) {
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const server = net.createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
    socket.pipe(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const relay = await FaultRelay.start({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port })
  t.teardown(() => relay.close())
  return { relay, accepted: () => accepted, open: () => sockets.size }
}

/** A client of the relay that keeps what it received and how it ended. */
async function connect (relay: FaultRelay) {
  const socket = net.connect({ host: '127.0.0.1', port: relay.port })
  await once(socket, 'connect')
  let received = ''
  let error: NodeJS.ErrnoException | null = null
  let closed = false
  socket.on('data', (chunk) => { received += String(chunk) })
  socket.on('error', (err) => { error = err })
  socket.on('close', () => { closed = true })
  const waitFor = async (text: string): Promise<void> => {
    for (let i = 0; i < 500 && !received.includes(text); i++) await sleep(10)
    if (!received.includes(text)) throw new Error(`never received ${JSON.stringify(text)}, got ${JSON.stringify(received)}`)
  }
  return { socket, waitFor, received: () => received, error: () => error, closed: () => closed }
}

/** A client whose first round trip through the relay is done. */
async function connectAndEcho (relay: FaultRelay, text: string) {
  const client = await connect(relay)
  client.socket.write(text)
  await client.waitFor(text)
  return client
}

/** Polls `check` for up to a second. */
async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5)
}

t.test('forwards both ways, in order', async (t) => {
  const { relay, accepted } = await startEcho(t)
  const client = await connect(relay)
  for (let i = 0; i < 50; i++) client.socket.write(`${i},`)
  await client.waitFor('49,')
  t.equal(client.received(), Array.from({ length: 50 }, (_, i) => `${i},`).join(''))
  t.equal(accepted(), 1)
  client.socket.destroy()
})

t.test('setDelay: each chunk waits at least the delay each way, and a later chunk never overtakes it', async (t) => {
  const { relay } = await startEcho(t)
  const client = await connect(relay)
  relay.setDelay(150)
  const started = performance.now()
  client.socket.write('a')
  await client.waitFor('a')
  // A lower bound only: the relay's timers never fire early; how much later is the machine's business.
  t.ok(performance.now() - started >= 295, 'the echo waited 150 ms on the way there and 150 ms back')

  relay.setDelay(300)
  client.socket.write('b')
  await sleep(50)
  relay.setDelay(0)
  client.socket.write('c')
  await client.waitFor('abc')
  t.equal(client.received(), 'abc', 'c, sent without delay, waited behind b')
  client.socket.destroy()
})

t.test('cutAll: both sides are reset; new connections are relayed again', async (t) => {
  const { relay, open } = await startEcho(t)
  const client = await connectAndEcho(relay, 'x')
  relay.cutAll()
  await until(() => client.closed())
  t.ok(client.closed(), 'the client saw its connection end')
  t.equal(client.error()?.code, 'ECONNRESET', 'by a reset')
  await until(() => open() === 0)
  t.equal(open(), 0, 'the server side was closed too')
  const again = await connectAndEcho(relay, 'y')
  t.equal(again.received(), 'y', 'a new connection is relayed')
  again.socket.destroy()
})

t.test('resetSocket closes a socket whose end() was called the same turn (where resetAndDestroy fails and leaves it open)', async (t) => {
  const { relay } = await startEcho(t)
  const client = await connect(relay)
  client.socket.end()
  resetSocket(client.socket)
  await until(() => client.closed())
  t.ok(client.closed(), 'the socket emitted close')
  t.equal(client.error(), null, 'and no EINVAL from a failed reset')
})

t.test('partition: silence both ways, no reset; new connections accepted but not connected; heal delivers what was held', async (t) => {
  const { relay, accepted } = await startEcho(t)
  const client = await connectAndEcho(relay, 'before,')
  relay.partition()
  client.socket.write('during,')
  const late = await connect(relay)
  t.equal(relay.accepted, 2, 'the relay accepted the new connection')
  late.socket.write('late,')
  await sleep(200)
  t.equal(client.received(), 'before,', 'nothing came back')
  t.equal(late.received(), '', 'nothing on the new connection either')
  t.notOk(client.closed() || late.closed(), 'no connection was closed')
  t.equal(client.error(), null, 'nor reset')
  t.equal(accepted(), 1, 'the new connection did not reach the server')

  relay.heal()
  await client.waitFor('during,')
  await late.waitFor('late,')
  t.equal(accepted(), 2, 'the held connection reached the server at heal')
  client.socket.destroy()
  late.socket.destroy()
})

t.test('partition: a client that goes away meanwhile is seen by the server only at heal', async (t) => {
  const { relay, open } = await startEcho(t)
  const client = await connectAndEcho(relay, 'x')
  relay.partition()
  client.socket.destroy()
  await sleep(100)
  t.equal(open(), 1, 'the server still holds the connection')
  relay.heal()
  await until(() => open() === 0)
  t.equal(open(), 0, 'closed once the partition healed')
})

t.test('loseAnswers: the request reaches the server, the answer never reaches the client, later connections are relayed', async (t) => {
  const { relay, accepted } = await startEcho(t)
  relay.loseAnswers(1)
  const first = await connect(relay)
  first.socket.write('cut')
  await until(() => first.closed())
  t.ok(first.closed(), 'the first connection was reset')
  t.equal(first.received(), '', 'without its answer')
  t.equal(accepted(), 1, 'after the server got the request and answered')
  t.equal(relay.answersLost, 1)
  await connectAndEcho(relay, 'again')
  t.equal(relay.answersLost, 1, 'the next connection is relayed')
})
