/** @module The downstream mock (the "CRM"): answers 200 at once, counts calls and distinct Idempotency-Keys. */
import { createServer, type Server } from 'node:http'
import { performance } from 'node:perf_hooks'

export interface DownstreamMock {
  url: string
  /** Every request received. */
  calls: number
  /** Distinct Idempotency-Key values (a retried call counts once). */
  distinct: Set<string>
  firstAt?: number
  lastAt?: number
  reset(): void
  close(): Promise<void>
}

export async function startMock(port = 0): Promise<DownstreamMock> {
  let server: Server | undefined
  const mock: DownstreamMock = {
    url: '',
    calls: 0,
    distinct: new Set(),
    reset() {
      mock.calls = 0
      mock.distinct.clear()
      mock.firstAt = undefined
      mock.lastAt = undefined
    },
    async close() {
      server?.closeAllConnections()
      await new Promise((done) => server?.close(done))
    },
  }
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const now = performance.now()
      mock.calls++
      mock.firstAt ??= now
      mock.lastAt = now
      const key = req.headers['idempotency-key']
      mock.distinct.add(typeof key === 'string' ? key : `call-${mock.calls}`)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' })
      res.end('{"ok":true}')
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((done) => server?.listen(port, '127.0.0.1', done))
  mock.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return mock
}
