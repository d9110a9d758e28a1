import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'

/** What the scripted platform does with one request, in the order requests arrive. */
export type ScriptStep =
  /** Answer with this status, headers and body (an object is sent as JSON); after `delayMs` if set. */
  | { status: number, headers?: Record<string, string>, body?: unknown, delayMs?: number }
  /** Read the whole request, then destroy the socket without answering. */
  | { destroy: true }
  /** Read the whole request and never answer. */
  | { hang: true }
  /** Send the status line and headers (with this content-length), part of the body, then destroy the socket. */
  | { status: number, truncateBody: string, contentLength: number }

export interface ReceivedRequest {
  method: string
  /** The raw request target, as it arrived (encoding preserved). */
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** Which connection it came on: 1 for the first socket accepted, 2 for the next… */
  connection: number
}

export interface ScriptedPlatform {
  /** `http://127.0.0.1:<port>` */
  url: string
  received: ReceivedRequest[]
  close: () => Promise<void>
}

/**
 * A loopback HTTP server standing in for the platform: it records every request and answers
 * from `script`, one step per request. Requests beyond the script get a 599, which no test expects.
 */
export async function startScriptedPlatform (script: ScriptStep[]): Promise<ScriptedPlatform> {
  const received: ReceivedRequest[] = []
  const connectionIds = new WeakMap<Socket, number>()
  let connections = 0
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: connectionIds.get(request.socket) ?? 0
      })
      const step = script[received.length - 1]
      if (step === undefined) {
        response.writeHead(599).end()
        return
      }
      if ('destroy' in step) {
        request.socket.destroy()
        return
      }
      if ('hang' in step) return
      if ('truncateBody' in step) {
        response.writeHead(step.status, { 'content-type': 'application/json', 'content-length': String(step.contentLength) })
        response.write(step.truncateBody, () => { request.socket.destroy() })
        return
      }
      const answer = (): void => {
        const text = step.body === undefined ? '' : typeof step.body === 'string' ? step.body : JSON.stringify(step.body)
        response.writeHead(step.status, {
          ...(typeof step.body === 'object' ? { 'content-type': 'application/json' } : {}),
          ...step.headers
        })
        response.end(text)
      }
      if (step.delayMs !== undefined) setTimeout(answer, step.delayMs)
      else answer()
    })
  })
  server.on('connection', (socket: Socket) => {
    connections += 1
    connectionIds.set(socket, connections)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A loopback port with nothing listening on it: connections to it are refused. */
export async function closedPortUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

export interface SilentServer {
  /** `https://127.0.0.1:<port>`: a TLS handshake with it never completes, so the client stays in its connect phase. */
  url: string
  /** Connections accepted so far. */
  connections: () => number
  close: () => Promise<void>
}

/** A TCP server that accepts connections and never writes a byte. */
export async function startSilentServer (): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createNetServer((socket) => {
    accepted += 1
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    connections: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
