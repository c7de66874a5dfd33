import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { AMOUNT_SCHEMA, bearerFlow } from '../support/bearer-flow.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const SHOP_TOKEN = 'shop-events-token'

/** verify (bearer) → validate → dedupe → transform → http with a quick retry, at `shop/<id>`. */
function shopFlow(id: string): FlowDocument {
  return bearerFlow({
    id,
    name: `Shop ${id}`,
    path: `shop/${id}`,
    tokenRef: 'SHOP_TOKEN',
    schema: AMOUNT_SCHEMA,
    expression: '{"ref": id, "total": amount * 100}',
    method: 'PUT',
    url: `{{$vars.SHOP_URL}}/${id}/{{ref}}`,
    delaysMs: [0, 30],
  })
}

interface Answer {
  status: number
  body: any
}

describe('the events API and the live stream over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  /** Events of flow `orders` by how they ended. */
  const orders = { completed: [] as string[], dead: [] as string[], retried: '' }
  const refunds: string[] = []

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: [shopFlow('orders'), shopFlow('refunds')],
      secrets: { SHOP_TOKEN: [SHOP_TOKEN] },
      vars: { SHOP_URL: mock.url },
    })
    mock.script('/orders/bad-1', [{ status: 400, body: { error: 'nope' } }])
    mock.script('/orders/flaky-1', [{ status: 503 }, { status: 200, body: { ok: true } }])
    for (const id of ['ok-1', 'ok-2', 'bad-1', 'flaky-1']) {
      const answer = await send('orders', { id, amount: 1.5 })
      const event = await waitForEvent(rt, answer.body.eventId)
      if (id === 'bad-1') orders.dead.push(event.id)
      else orders.completed.push(event.id)
      if (id === 'flaky-1') orders.retried = event.id
    }
    for (let i = 0; i < 5; i++) {
      const answer = await send('refunds', { id: `refund-${i}`, amount: i })
      refunds.push(answer.body.eventId)
    }
    for (const id of refunds) await waitForEvent(rt, id)
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  function send(flow: string, body: unknown, token = SHOP_TOKEN) {
    return rt.post(`/hooks/shop/${flow}`, JSON.stringify(body), { authorization: `Bearer ${token}` })
  }

  async function get(path: string): Promise<Answer> {
    const response = await fetch(`${rt.url}/api${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    return { status: response.status, body: await response.json() }
  }

  describe('the list', () => {
    it('filters by flow and by status, newest first, without raw bodies', async () => {
      const completed = await get('/events?flow=orders&status=completed')
      expect(completed.status).toBe(200)
      expect(completed.body.items.map((e: { id: string }) => e.id)).toEqual([...orders.completed].reverse())
      for (const item of completed.body.items) {
        expect(item).toMatchObject({ flowId: 'orders', status: 'completed' })
        expect(item).not.toHaveProperty('rawBody')
      }
      const dead = await get('/events?flow=orders&status=dead')
      expect(dead.body.items.map((e: { id: string }) => e.id)).toEqual(orders.dead)
      const refundList = await get('/events?flow=refunds')
      expect(refundList.body.items.every((e: { flowId: string }) => e.flowId === 'refunds')).toBe(true)
    })

    it('lists refused deliveries as rejected', async () => {
      const refused = await send('orders', { id: 'x', amount: 1 }, 'wrong-token')
      expect(refused.status).toBe(401)
      let rejected: Answer | undefined
      for (let tries = 0; tries < 50; tries++) {
        rejected = await get('/events?flow=orders&status=rejected')
        if (rejected.body.items.length > 0) break
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(rejected?.body.items[0]).toMatchObject({ status: 'rejected', rejection: { status: 401 } })
    })

    it('pages with the cursor so that every event comes exactly once', async () => {
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: Answer = await get(`/events?flow=refunds&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        expect(page.body.items.length).toBeLessThanOrEqual(2)
        seen.push(...page.body.items.map((e: { id: string }) => e.id))
        cursor = page.body.nextCursor
        pages++
      } while (cursor !== null && pages < 10)
      expect(seen).toEqual([...refunds].reverse())
      expect(new Set(seen).size).toBe(refunds.length)
    })

    it('answers 400 naming the parameter for a bad status, limit, cursor or time', async () => {
      for (const [query, parameter] of [
        ['status=finished', 'status'],
        ['limit=0', 'limit'],
        ['limit=many', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        ['since=yesterday', 'since'],
      ]) {
        const answer = await get(`/events?${query}`)
        expect(answer.status, query).toBe(400)
        expect(answer.body.error.details, query).toEqual({ parameter })
      }
    })

    it('keeps to a time window with since and until', async () => {
      const first = await get(`/events/${refunds[0]}`)
      const last = await get(`/events/${refunds.at(-1)}`)
      const window = await get(
        `/events?flow=refunds&since=${encodeURIComponent(first.body.receivedAt)}&until=${encodeURIComponent(last.body.receivedAt)}`,
      )
      const ids = window.body.items.map((e: { id: string }) => e.id)
      expect(ids).toContain(refunds[0])
      expect(ids).not.toContain(refunds.at(-1))
    })
  })

  describe('one event', () => {
    it('answers the raw body, masked headers, steps with their inputs, attempts and lineage', async () => {
      const answer = await get(`/events/${orders.retried}`)
      expect(answer.status).toBe(200)
      const event = answer.body
      expect(event.rawBody).toBe(JSON.stringify({ id: 'flaky-1', amount: 1.5 }))
      expect(event.headers.authorization).toBe('[masked]')
      expect(event.steps.map((s: { node: string }) => s.node)).toEqual([
        'auth',
        'validate',
        'dedupe',
        'map',
        'deliver',
        'deliver',
      ])
      // Verify reads the raw body (shown above); every later step shows the payload it received.
      for (const step of event.steps.slice(1)) expect(step, step.node).toHaveProperty('input')
      expect(event.steps[1].input).toEqual({ id: 'flaky-1', amount: 1.5 })
      expect(event.attempts).toEqual([
        expect.objectContaining({ node: 'map', attempt: 1, outcome: 'ok', port: 'ok' }),
        expect.objectContaining({
          node: 'deliver',
          attempt: 1,
          outcome: 'retried',
          errorCategory: 'retriable',
          status: 503,
        }),
        expect.objectContaining({ node: 'deliver', attempt: 2, outcome: 'ok', port: 'ok', status: 200 }),
      ])
      for (const attempt of event.attempts) expect(typeof attempt.durationMs).toBe('number')
      expect(event.lineage.map).toEqual({ ref: ['id'], total: ['amount'] })
      expect(event.runs).toEqual([
        expect.objectContaining({
          run: 0,
          version: 1,
          path: [
            ['auth', 'ok'],
            ['validate', 'ok'],
            ['dedupe', 'new'],
            ['map', 'ok'],
            ['deliver', 'ok'],
          ],
        }),
      ])
    })

    it('shows a dead event with its dead letter and its failed attempt', async () => {
      const event = (await get(`/events/${orders.dead[0]}`)).body
      expect(event.status).toBe('dead')
      expect(event.deadLetters).toEqual([
        expect.objectContaining({ node: 'deliver', error: expect.objectContaining({ category: 'non_retriable' }) }),
      ])
      expect(event.attempts.at(-1)).toMatchObject({ node: 'deliver', outcome: 'failed', status: 400 })
    })

    it('answers the lineage route with the event id and each transform’s field lineage', async () => {
      const answer = await get(`/events/${orders.completed[0]}/lineage`)
      expect(answer.body).toEqual({
        eventId: orders.completed[0],
        lineage: { map: { ref: ['id'], total: ['amount'] } },
      })
    })

    it('answers 404 for an unknown event', async () => {
      expect((await get('/events/evt_unknown')).status).toBe(404)
      expect((await get('/events/evt_unknown/lineage')).status).toBe(404)
    })
  })

  describe('the live stream', () => {
    /** Reads server-sent events until `done` says so or the time is up. */
    async function readStream(
      path: string,
      headers: Record<string, string>,
      whileOpen: () => Promise<void>,
      done: (messages: Array<{ event: string; data: any }>) => boolean,
    ) {
      const abort = new AbortController()
      const response = await fetch(`${rt.url}${path}`, { headers, signal: abort.signal })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
      const messages: Array<{ event: string; data: any }> = []
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      const timer = setTimeout(() => abort.abort(), 5_000)
      const reading = (async () => {
        try {
          for (;;) {
            const { value, done: ended } = await reader.read()
            if (ended) return
            buffer += decoder.decode(value, { stream: true })
            let end = buffer.indexOf('\n\n')
            while (end >= 0) {
              const block = buffer.slice(0, end)
              buffer = buffer.slice(end + 2)
              const event = /^event: (.*)$/m.exec(block)?.[1]
              const data = /^data: (.*)$/m.exec(block)?.[1]
              if (event && data) messages.push({ event, data: JSON.parse(data) })
              end = buffer.indexOf('\n\n')
            }
            if (done(messages)) return
          }
        } catch {
          // aborted: the time is up
        }
      })()
      await whileOpen()
      await reading
      clearTimeout(timer)
      abort.abort()
      return messages
    }

    it('sends event news for a delivery made while connected, and the steps workers ran', async () => {
      let eventId = ''
      const messages = await readStream(
        '/api/stream?flow=orders',
        { authorization: `Bearer ${ADMIN_TOKEN}` },
        async () => {
          await send('refunds', { id: 'refund-streamed', amount: 1 })
          eventId = (await send('orders', { id: 'streamed-1', amount: 2 })).body.eventId
        },
        (seen) => seen.some((m) => m.event === 'steps' && m.data.eventId === eventId),
      )
      expect(messages).toContainEqual({
        event: 'event',
        data: expect.objectContaining({ type: 'event', eventId, flowId: 'orders', status: 'accepted', answered: 202 }),
      })
      const steps = messages.find((m) => m.event === 'steps' && m.data.eventId === eventId)
      expect(steps?.data.steps.map((s: { node: string }) => s.node)).toEqual(['map', 'deliver'])
      // Filtered: the refunds delivery is not on an orders stream.
      expect(messages.every((m) => m.data.flowId === 'orders')).toBe(true)
    })

    it('takes the token from ?access_token= for browsers’ EventSource, and refuses without one', async () => {
      let eventId = ''
      const messages = await readStream(
        `/api/stream?access_token=${ADMIN_TOKEN}`,
        {},
        async () => {
          eventId = (await send('refunds', { id: 'refund-browser', amount: 1 })).body.eventId
        },
        (seen) => seen.some((m) => m.event === 'event' && m.data.eventId === eventId),
      )
      expect(messages.some((m) => m.data.eventId === eventId)).toBe(true)
      expect((await fetch(`${rt.url}/api/stream`)).status).toBe(401)
    })
  })

  it('answers the metrics summary with the queue', async () => {
    const summary = await get('/metrics/summary?flow=orders')
    expect(summary.status).toBe(200)
    expect(summary.body.flow).toBe('orders')
    expect(summary.body.windows.map((w: { window: string }) => w.window)).toEqual(['5m', '1h', '24h'])
    expect(summary.body.windows[0].received).toBeGreaterThanOrEqual(4)
    expect(summary.body.queue).toMatchObject({ pending: expect.any(Number), deadLetters: expect.any(Number) })
  })
})
