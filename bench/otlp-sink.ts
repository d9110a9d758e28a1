/**
 * A local OTLP/HTTP trace collector as a benchmark child: it reads every export and answers
 * 200, so the traced livecut-bff pays for recording, batching, encoding and sending its spans.
 * Answers `received` with the exports and bytes taken, so the parent can show spans arrived.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveParent } from './processes.ts'

let exports = 0
let bytes = 0
const server = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => { bytes += chunk.length })
  request.on('end', () => {
    if (request.url === '/v1/traces') exports += 1
    response.writeHead(request.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/json' }).end('{}')
  })
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
serveParent(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}, {
  received: () => ({ exports, bytes })
})
