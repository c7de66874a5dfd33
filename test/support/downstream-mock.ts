/** @module A downstream API for tests: records every request and answers from a script. */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

export interface MockAnswer {
  status: number
  body?: unknown
  headers?: Record<string, string>
  delayMs?: number
}

export interface DownstreamMock {
  url: string
  requests: RecordedRequest[]
  /** Answers for a path, in order; the last repeats. Unscripted paths get 200 {}. */
  script(path: string, answers: MockAnswer[]): void
  waitFor(count: number, timeoutMs?: number, path?: string): Promise<RecordedRequest[]>
  stop(): Promise<void>
}

export async function startDownstreamMock(): Promise<DownstreamMock> {
  const requests: RecordedRequest[] = []
  const scripts = new Map<string, { answers: MockAnswer[]; served: number }>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/'
      requests.push({
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
        at: Date.now(),
      })
      const script = scripts.get(path)
      const answer = script
        ? (script.answers[Math.min(script.served++, script.answers.length - 1)] as MockAnswer)
        : { status: 200, body: {} }
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body))
      }
      if (answer.delayMs) setTimeout(send, answer.delayMs)
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (path, answers) => scripts.set(path, { answers, served: 0 }),
    async waitFor(count, timeoutMs = 15_000, path) {
      const deadline = Date.now() + timeoutMs
      const matching = () => (path === undefined ? requests : requests.filter((r) => r.path === path))
      while (matching().length < count) {
        if (Date.now() > deadline)
          throw new Error(`downstream saw ${matching().length} of ${count} requests in ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return matching()
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
