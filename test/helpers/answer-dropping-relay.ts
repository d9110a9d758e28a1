import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'

export interface AnswerDroppingRelay {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Connections whose answer was dropped so far. */
  dropped: () => number
  close: () => Promise<void>
}

/**
 * A TCP relay in front of `target` that delivers each request but, on the first `dropFirst`
 * connections, destroys the client's socket as soon as the answer starts to arrive: the
 * server did the work, and the client sees its connection fail (a lost answer).
 */
export async function startAnswerDroppingRelay (target: string, dropFirst = 1): Promise<AnswerDroppingRelay> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  let accepted = 0
  let dropped = 0
  const server = createServer((client) => {
    accepted += 1
    const dropsAnswer = accepted <= dropFirst
    const upstream = connect({ host: hostname, port: Number(port) })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => { client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => {
      if (!dropsAnswer) {
        client.write(chunk)
        return
      }
      if (!client.destroyed) dropped += 1
      client.destroy()
      upstream.destroy()
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.end())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
