/**
 * @module GET /api/stream with two runtimes on one PostgreSQL database: an editor connected to one process hears
 * of the events another process took and worked, relayed once, and a process never hears its own news back.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NOTIFY_PAYLOAD_MAX_BYTES, newsPayloads, parseNews } from '../../runtime/store/postgres/news.ts'
import type { StreamItem } from '../../runtime/store/store.ts'
import { CONDUIT_ENV, CONDUIT_HOOK_PATH, conduitDelivery, writeConduitFlow } from '../support/conduit-event.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.ts'
import { type ServeProcess, startServeProcess } from '../support/serve-process.ts'

const ADMIN_TOKEN = 'stream-admin'
/** The relay's batching (100 ms) and a NOTIFY round trip fit well within this. */
const RELAY_WITHIN_MS = 2_000

interface StreamMessage {
  event: string
  data: { type: string; eventId: string; status?: string; steps?: unknown[]; relayed?: boolean }
}

interface StreamReader {
  messages: StreamMessage[]
  /** Resolves with the first message (seen already or arriving within the time) that matches. */
  waitFor(match: (message: StreamMessage) => boolean, timeoutMs: number): Promise<StreamMessage>
  close(): void
}

async function openStream(url: string): Promise<StreamReader> {
  const abort = new AbortController()
  const response = await fetch(`${url}/api/stream`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: abort.signal,
  })
  expect(response.status).toBe(200)
  const messages: StreamMessage[] = []
  const waiting = new Set<() => void>()
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffered = ''
  const connected = new Promise<void>((resolve) => waiting.add(resolve))
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }))
      if (done) return
      buffered += value
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event && data) messages.push({ event, data: JSON.parse(data) as StreamMessage['data'] })
      }
      for (const wake of [...waiting]) wake()
    }
  })()
  await connected
  return {
    messages,
    async waitFor(match, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = messages.find(match)
        if (found) return found
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`no such stream message within ${timeoutMs} ms: ${JSON.stringify(messages)}`)
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiting.delete(wake)
            clearTimeout(timer)
            resolve()
          }
          const timer = setTimeout(wake, left)
          waiting.add(wake)
        })
      }
    },
    close: () => abort.abort(),
  }
}

describe('stream news between processes', () => {
  it('splits a busy interval into notifications under the payload limit that read back as sent', () => {
    const items: StreamItem[] = Array.from(
      { length: 1_000 },
      (_, n): StreamItem =>
        n % 2 === 0
          ? {
              type: 'event',
              eventId: `0198f7c2-0000-7000-8000-${String(n).padStart(12, '0')}`,
              flowId: 'conduit-reports',
              flowVersion: 3,
              status: 'accepted',
              at: '2026-11-23T06:57:15.123Z',
              answered: 202,
            }
          : { type: 'steps', eventId: `0198f7c2-0000-7000-8000-${String(n).padStart(12, '0')}`, flowId: 'ü-flow' },
    )
    const payloads = newsPayloads({ kind: 'stream', from: 'process-a', items })
    expect(payloads.length).toBeGreaterThan(1)
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(NOTIFY_PAYLOAD_MAX_BYTES)
    const heard = payloads.map((payload) => parseNews(payload))
    expect(heard.every((news) => news?.kind === 'stream' && news.from === 'process-a')).toBe(true)
    expect(heard.flatMap((news) => (news?.kind === 'stream' ? news.items : []))).toEqual(items)
  })
})

describe.runIf(await pgAvailable())('the live stream with two runtimes on one PostgreSQL database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-stream-'))
  let database: TestDatabase
  let mock: DownstreamMock
  const servers: ServeProcess[] = []
  const streams: StreamReader[] = []

  beforeAll(async () => {
    database = await createTestDatabase('stream')
    mock = await startDownstreamMock()
  })

  afterAll(async () => {
    for (const stream of streams) stream.close()
    for (const server of servers) await server.kill('SIGKILL').catch(() => undefined)
    await mock?.stop()
    await database?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('tells an editor on one process of an event another process took, and of its steps, once each', async () => {
    const flowsDir = writeConduitFlow(dir)
    const env = {
      ...CONDUIT_ENV,
      MAPPER_VAR_CRM_BASE_URL: mock.url,
      MAPPER_ADMIN_TOKEN: ADMIN_TOKEN,
      MAPPER_SECRET_KEY: randomBytes(32).toString('base64'),
    }
    const start = (name: string, args: string[]) => {
      const dataDir = join(dir, name)
      mkdirSync(dataDir)
      return startServeProcess({ flowsDir, dataDir, env, args: ['--store', database.url, ...args] })
    }
    // A takes no work, so the steps it hears of can only come from B.
    const [a, b] = await Promise.all([start('a', ['--no-workers']), start('b', [])])
    servers.push(a, b)
    const onA = await openStream(a.url)
    const onB = await openStream(b.url)
    streams.push(onA, onB)

    const delivery = conduitDelivery('across')
    const sentAt = Date.now()
    const answer = await fetch(`${b.url}${CONDUIT_HOOK_PATH}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    })
    expect(answer.status).toBe(202)
    const { eventId } = (await answer.json()) as { eventId: string }

    const accepted = await onA.waitFor((m) => m.event === 'event' && m.data.eventId === eventId, RELAY_WITHIN_MS)
    expect(Date.now() - sentAt).toBeLessThan(RELAY_WITHIN_MS)
    expect(accepted.data).toMatchObject({ type: 'event', eventId, status: 'accepted', relayed: true })

    const steps = await onA.waitFor((m) => m.event === 'steps' && m.data.eventId === eventId, 10_000)
    expect(steps.data).toMatchObject({ type: 'steps', eventId, steps: [], relayed: true })
    await onB.waitFor((m) => m.event === 'steps' && m.data.eventId === eventId, 2_000)

    // Long enough for any echo: B's own news comes back to B, and A's relayed news to A, never.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const about = (stream: StreamReader, event: string) =>
      stream.messages.filter((m) => m.event === event && m.data.eventId === eventId)
    expect(about(onA, 'event')).toHaveLength(1)
    expect(about(onB, 'event')).toHaveLength(1)
    expect(about(onB, 'event')[0]?.data.relayed).toBeUndefined()
    expect(about(onB, 'steps').every((m) => m.data.relayed === undefined)).toBe(true)
    expect(about(onA, 'steps').length).toBeLessThanOrEqual(about(onB, 'steps').length)
  })
})
