/** @module The http node's way out: undici with a per-request timeout, answers read as text. */
import { Agent, request } from 'undici'
import type { OutboundRequest, OutboundResponse } from '../model/node-kind.ts'

/** Downstream answers are kept for the step record; past this, the rest is cut. */
const MAX_ANSWER_BYTES = 256 * 1024

export function createHttpClient(): { fetch(req: OutboundRequest): Promise<OutboundResponse>; close(): Promise<void> } {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 })
  return {
    async fetch(req) {
      const response = await request(req.url, {
        method: req.method as 'POST',
        headers: req.headers,
        ...(req.body === undefined ? {} : { body: req.body }),
        dispatcher: agent,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal: AbortSignal.timeout(req.timeoutMs),
      })
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
      }
      return { status: response.statusCode, headers, body: await readText(response.body) }
    },
    close: () => agent.close(),
  }
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    if (size < MAX_ANSWER_BYTES) chunks.push(chunk)
    size += chunk.length
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8')
}
