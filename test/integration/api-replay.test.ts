import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { AMOUNT_SCHEMA, bearerFlow } from '../support/bearer-flow.ts'
import { type DownstreamMock, startDownstreamMock } from '../support/downstream-mock.ts'
import { REPO_ROOT } from '../support/paths.ts'
import { ADMIN_TOKEN, startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'

const PAY_TOKEN = 'pay-webhook-token'
const run = promisify(execFile)

/** verify (bearer) → validate → dedupe → transform → http to `<PAY_URL>/<endpoint>/<ref>`, one attempt. */
function paymentsFlow(id: string, version: number, endpoint: string): FlowDocument {
  return bearerFlow({
    id,
    version,
    name: `Payments ${id}`,
    path: `pay/${id}`,
    tokenRef: 'PAY_TOKEN',
    schema: AMOUNT_SCHEMA,
    expression: '{"ref": id, "cents": amount * 100}',
    method: 'POST',
    url: `{{$vars.PAY_URL}}/${endpoint}/{{ref}}`,
    delaysMs: [0],
  })
}

interface Answer {
  status: number
  body: any
}

describe('replay over real HTTP on a real SQLite file', () => {
  let rt: TestRuntime
  let mock: DownstreamMock
  const tokens: Record<'viewer' | 'editor' | 'operator', string> = { viewer: '', editor: '', operator: '' }

  beforeAll(async () => {
    mock = await startDownstreamMock()
    rt = await startTestRuntime({
      flows: [
        paymentsFlow('payments', 1, 'broken'),
        paymentsFlow('bulk', 1, 'broken'),
        paymentsFlow('slow', 1, 'slow'),
        paymentsFlow('unfixed', 1, 'broken'),
        paymentsFlow('cli', 1, 'broken'),
        paymentsFlow('purged', 1, 'fine'),
      ],
      secrets: { PAY_TOKEN: [PAY_TOKEN] },
      vars: { PAY_URL: mock.url },
    })
    for (const role of ['viewer', 'editor', 'operator'] as const) {
      tokens[role] = (await call('POST', '/tokens', { role, name: `replay ${role}` })).body.token
    }
  })
  afterAll(async () => {
    await rt?.stop()
    await mock?.stop()
  })

  const call = (method: string, path: string, body?: unknown, token?: string): Promise<Answer> =>
    rt.call(method, path, body, token)

  /** Sends a payment to a flow whose downstream answers 400 for it, and waits until it is dead. */
  async function deadPayment(flow: string, ref: string): Promise<string> {
    mock.script(`/broken/${ref}`, [{ status: 400, body: { error: 'unknown endpoint' } }])
    const answer = await rt.post(`/hooks/pay/${flow}`, JSON.stringify({ id: ref, amount: 4.2 }), {
      authorization: `Bearer ${PAY_TOKEN}`,
    })
    expect(answer.status).toBe(202)
    const event = await waitForEvent(rt, answer.body.eventId)
    expect(event.status).toBe('dead')
    return event.id
  }

  /** Saves the fixed version of a flow (its http node calls an endpoint that answers 200). */
  async function saveFixed(flow: string): Promise<number> {
    const latest = (await call('GET', `/flows/${flow}`)).body.version as number
    const saved = await call('PUT', `/flows/${flow}`, paymentsFlow(flow, latest + 1, 'fixed'))
    expect(saved.status).toBe(201)
    return latest + 1
  }

  /** Everything a replay could change: the flow's events, one event's steps, dead letters, audit, downstream calls. */
  async function snapshot(eventId: string) {
    const events = await call('GET', '/events?flow=payments&limit=500')
    const event = await call('GET', `/events/${eventId}`)
    const deadLetters = await call('GET', '/dead-letters?limit=500')
    const audit = await call('GET', '/audit?limit=500')
    const queue = (await call('GET', '/metrics/summary')).body.queue
    return {
      events: events.body.items.map((e: { id: string; status: string; updatedAt: string }) => [
        e.id,
        e.status,
        e.updatedAt,
      ]),
      steps: event.body.steps.length,
      status: event.body.status,
      deadLetters: deadLetters.body.items.map((d: { id: string }) => d.id),
      audit: audit.body.items.length,
      queue: { pending: queue.pending, deadLetters: queue.deadLetters },
      downstream: mock.requests.length,
    }
  }

  describe('preview', () => {
    it('shows the path and outputs that would change, and changes nothing and calls nothing', async () => {
      const eventId = await deadPayment('payments', 'pay-preview')
      const fixed = await saveFixed('payments')
      const before = await snapshot(eventId)

      const answer = await call('POST', `/events/${eventId}/replay`, { preview: true, version: fixed }, tokens.editor)
      expect(answer.status).toBe(200)
      const preview = answer.body
      expect(preview).toMatchObject({ preview: true, eventId, version: fixed, outcome: 'completed' })
      expect(preview.steps[0]).toMatchObject({ node: 'auth', skipped: true })
      expect(preview.changes.path.before).toEqual([
        ['auth', 'ok'],
        ['validate', 'ok'],
        ['dedupe', 'new'],
        ['map', 'ok'],
        ['deliver', 'error'],
      ])
      expect(preview.changes.path.after.at(-1)).toEqual(['deliver', 'ok'])
      expect(preview.changes.path.changed).toBe(true)
      expect(preview.changes.unchanged).toContain('map')
      expect(preview.changes.outputs).toEqual([
        {
          node: 'deliver',
          before: {
            error: expect.objectContaining({ category: 'non_retriable', message: expect.stringContaining('400') }),
          },
          after: { request: expect.objectContaining({ method: 'POST', url: `${mock.url}/fixed/pay-preview` }) },
        },
      ])
      // Its own dedupe claim counts as its own: the preview takes the `new` path, not `duplicate`.
      expect(preview.steps.find((s: { node: string }) => s.node === 'dedupe').port).toBe('new')

      // On the version that first ran it (no version given), the same event runs as it did.
      const same = await call('POST', `/events/${eventId}/replay`, { preview: true }, tokens.editor)
      expect(same.body.version).toBe(1)
      expect(same.body.changes.outputs[0].after.request.url).toBe(`${mock.url}/broken/pay-preview`)

      await new Promise((r) => setTimeout(r, 200))
      expect(await snapshot(eventId)).toEqual(before)
    })

    it('needs the editor role: a viewer gets 403', async () => {
      const answer = await call('POST', '/events/evt_anything/replay', { preview: true }, tokens.viewer)
      expect(answer.status).toBe(403)
    })
  })

  describe('a real replay', () => {
    it('delivers a dead letter on a fixed version with the same Idempotency-Key, and audits who and why', async () => {
      const eventId = await deadPayment('payments', 'pay-real')
      const firstCall = mock.requests.find((r) => r.path === '/broken/pay-real')
      const key = firstCall?.headers['idempotency-key']
      expect(key).toBe(`${eventId}:deliver`)
      expect(
        (await call('GET', '/dead-letters?flow=payments')).body.items.map((d: { eventId: string }) => d.eventId),
      ).toContain(eventId)

      const fixed = await saveFixed('payments')
      expect((await call('POST', '/flows/payments/deploy', { version: fixed })).status).toBe(200)

      const answer = await call(
        'POST',
        `/events/${eventId}/replay`,
        { version: fixed, reason: 'the CRM moved its endpoint' },
        tokens.operator,
      )
      expect(answer.status).toBe(202)
      expect(answer.body).toEqual({ eventId, status: 'accepted', version: fixed })

      const [delivered] = await mock.waitFor(1, 10_000, '/fixed/pay-real')
      expect(delivered?.headers['idempotency-key']).toBe(key)
      expect(JSON.parse(delivered?.body ?? '{}')).toEqual({ ref: 'pay-real', cents: 420 })
      const event = await waitForEvent(rt, eventId)
      expect(event.status).toBe('completed')
      expect(event.runs.map((r: { version: number; by: string | null }) => [r.version, r.by])).toEqual([
        [1, null],
        [fixed, 'replay operator'],
      ])
      expect(event.deadLetters[0].replayedAt).not.toBeNull()

      const open = await call('GET', '/dead-letters?flow=payments')
      expect(open.body.items.map((d: { eventId: string }) => d.eventId)).not.toContain(eventId)
      const audit = await call('GET', '/audit')
      expect(audit.body.items).toContainEqual(
        expect.objectContaining({
          action: 'replay',
          target: `event:${eventId}`,
          actor: 'replay operator',
          reason: 'the CRM moved its endpoint',
        }),
      )
    })

    it('answers 400 naming the reason when there is none', async () => {
      for (const body of [{}, { reason: '   ' }, { version: 1 }]) {
        const answer = await call('POST', '/events/evt_whatever/replay', body, tokens.operator)
        expect(answer.status).toBe(400)
        expect(answer.body.error.message).toMatch(/^reason: /)
      }
    })

    it('needs the operator role: viewers and editors get 403', async () => {
      for (const role of ['viewer', 'editor'] as const) {
        const answer = await call('POST', '/events/evt_whatever/replay', { reason: 'try' }, tokens[role])
        expect(answer.status).toBe(403)
      }
    })

    it('answers 404 for an unknown event or version, and 409 while the event still has work', async () => {
      expect((await call('POST', '/events/evt_unknown/replay', { reason: 'r' })).status).toBe(404)
      const deadId = await deadPayment('unfixed', 'pay-404')
      expect((await call('POST', `/events/${deadId}/replay`, { reason: 'r', version: 99 })).status).toBe(404)

      mock.script('/slow/pay-slow', [{ status: 200, delayMs: 1_500 }])
      const answer = await rt.post('/hooks/pay/slow', JSON.stringify({ id: 'pay-slow', amount: 1 }), {
        authorization: `Bearer ${PAY_TOKEN}`,
      })
      const busy = await call('POST', `/events/${answer.body.eventId}/replay`, { reason: 'too early' })
      expect(busy.status).toBe(409)
      expect(busy.body.error.code).toBe('pending_work')
      await waitForEvent(rt, answer.body.eventId)
    })
  })

  describe('dead letters in bulk', () => {
    it('replays every open dead letter of a flow on a chosen version', async () => {
      const dead = [await deadPayment('bulk', 'bulk-1'), await deadPayment('bulk', 'bulk-2')]
      const fixed = await saveFixed('bulk')
      const preview = await call(
        'POST',
        '/dead-letters/replay',
        { flow: 'bulk', preview: true, version: fixed },
        tokens.editor,
      )
      expect(preview.status).toBe(200)
      expect(preview.body.previews.map((p: { eventId: string }) => p.eventId)).toEqual(dead)

      const answer = await call('POST', '/dead-letters/replay', { flow: 'bulk', version: fixed, reason: 'bulk fix' })
      expect(answer.status).toBe(202)
      expect(answer.body.replayed.map((r: { eventId: string }) => r.eventId)).toEqual(dead)
      expect(answer.body.failed).toEqual([])
      for (const id of dead) expect((await waitForEvent(rt, id)).status).toBe('completed')
      expect((await call('GET', '/dead-letters?flow=bulk')).body.items).toEqual([])
      expect(
        mock.requests.filter((r) => r.path.startsWith('/fixed/bulk-')).map((r) => r.headers['idempotency-key']),
      ).toEqual(dead.map((id) => `${id}:deliver`))
    })

    it('replays chosen dead letters by id and reports the ids that are not open', async () => {
      const eventId = await deadPayment('bulk', 'bulk-3')
      const letter = (await call('GET', '/dead-letters?flow=bulk')).body.items[0]
      expect(letter.eventId).toBe(eventId)
      const answer = await call('POST', '/dead-letters/replay', { ids: [letter.id, 'dl_missing'], reason: 'one by id' })
      expect(answer.body.replayed).toEqual([expect.objectContaining({ eventId })])
      expect(answer.body.failed).toEqual([expect.objectContaining({ eventId: null, deadLetterId: 'dl_missing' })])
    })

    it('answers 400 when neither ids nor flow choose the dead letters, and 403 to an editor', async () => {
      const answer = await call('POST', '/dead-letters/replay', { reason: 'which?' })
      expect(answer.status).toBe(400)
      expect(answer.body.error.message).toMatch(/^ids: /)
      expect((await call('POST', '/dead-letters/replay', { flow: 'bulk', reason: 'r' }, tokens.editor)).status).toBe(
        403,
      )
    })
  })

  describe('from the command line', () => {
    const mapper = (args: string[]) => {
      const { MAPPER_URL: _url, MAPPER_TOKEN: _token, ...inherited } = process.env
      return run(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), ...args], {
        cwd: REPO_ROOT,
        env: { ...inherited, MAPPER_URL: rt.url, MAPPER_TOKEN: ADMIN_TOKEN },
        timeout: 30_000,
      })
    }

    it('previews a replay readably, then replays with a reason', async () => {
      const eventId = await deadPayment('cli', 'pay-cli')
      const fixed = await saveFixed('cli')
      const preview = await mapper(['replay', eventId, '--preview', '--version', String(fixed)])
      expect(preview.stdout).toContain(`preview of ${eventId} on version ${fixed}: completed`)
      expect(preview.stdout).toContain('path before: auth:ok → validate:ok → dedupe:new → map:ok → deliver:error')
      expect(preview.stdout).toContain('path now:    auth:ok → validate:ok → dedupe:new → map:ok → deliver:ok')
      expect(preview.stdout).toContain('deliver changed')
      expect(preview.stdout).toContain(`/fixed/pay-cli`)
      const real = await mapper(['replay', eventId, '--version', String(fixed), '--reason', 'from the CLI'])
      expect(real.stdout).toContain(`event ${eventId} replayed on version ${fixed}: accepted`)
      expect((await waitForEvent(rt, eventId)).status).toBe('completed')
    })

    it('purges raw payloads through the store, after which a replay answers 410', async () => {
      const answer = await rt.post('/hooks/pay/purged', JSON.stringify({ id: 'purge-1', amount: 1 }), {
        authorization: `Bearer ${PAY_TOKEN}`,
      })
      await waitForEvent(rt, answer.body.eventId)
      const purge = await mapper(['purge', '--flow', 'purged', '--older-than', '0s', '--data', rt.dataDir])
      expect(purge.stdout).toMatch(/^removed 1 raw payload of flow purged received before /)
      const event = await call('GET', `/events/${answer.body.eventId}`)
      expect(event.body.rawBody).toBeNull()
      const replay = await call('POST', `/events/${answer.body.eventId}/replay`, { reason: 'too late' })
      expect(replay.status).toBe(410)
      expect(replay.body.error.code).toBe('raw_body_gone')
    })
  })
})
