/** @module The engine beyond the golden scenarios: where runs stop, retry decisions, redaction, lineage, odd errors. */
import { Type } from '@sinclair/typebox'
import { describe, expect, it } from 'vitest'
import { compileFlow } from '../../runtime/engine/compile.ts'
import { REDACTED } from '../../runtime/engine/redact.ts'
import { runGuard, runToEnd, runWork } from '../../runtime/engine/run.ts'
import type { EngineEvent, RunOptions } from '../../runtime/engine/types.ts'
import { schemaDirectory } from '../../runtime/files/schema-directory.ts'
import { defineNodeKind, type NodeKind } from '../../runtime/model/node-kind.ts'
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { fakeServices } from '../support/fake-services.ts'
import { SCHEMAS_DIR } from '../support/paths.ts'

const NOW_MS = Date.parse('2026-01-17T12:05:03.000Z')
const SIDE_EFFECTS: RunOptions = { sideEffects: true }
const PREVIEW: RunOptions = { sideEffects: false }

const PAYLOAD = {
  id: 'evt_1',
  type: 'report.completed',
  data: { reportId: 'r1', email: 'ada@example.com', user: 'ada' },
}

const CHECK: FlowNode = {
  id: 'check',
  kind: 'validate',
  config: { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
}
const ONCE: FlowNode = { id: 'once', kind: 'dedupe', config: { key: 'id' } }
const MAP: FlowNode = {
  id: 'map',
  kind: 'transform',
  config: { expression: '{ "ref": data.reportId, "who": data.user }' },
}

function httpNode(id: string, extra: Record<string, unknown> = {}): FlowNode {
  return { id, kind: 'http', config: { method: 'POST', url: 'https://crm.test/{{$string(ref)}}', ...extra } }
}

function compile(
  nodes: FlowNode[],
  edges: FlowEdge[],
  changes: Partial<FlowDocument> = {},
  kinds: ReadonlyMap<string, NodeKind> = nodeKinds,
) {
  const doc: FlowDocument = {
    schemaVersion: 1,
    id: 'engine-test',
    version: 3,
    name: 'Engine test',
    trigger: { path: 'engine/test', respond: 'accepted' },
    nodes,
    edges,
    ...changes,
  }
  return compileFlow(doc, { kinds, schemas: schemaDirectory(SCHEMAS_DIR) })
}

function event(body: unknown = PAYLOAD, headers: Record<string, string> = {}): EngineEvent {
  return {
    id: 'evt-engine',
    receivedAt: new Date(NOW_MS).toISOString(),
    flowId: 'engine-test',
    flowVersion: 3,
    headers,
    rawBody: typeof body === 'string' ? body : JSON.stringify(body),
  }
}

function edge(from: string, port: string, to: string): FlowEdge {
  return { from, port, to }
}

describe('runGuard', () => {
  it('stops before the first work node and hands it on as work with the parsed payload', async () => {
    const flow = compile(
      [CHECK, ONCE, MAP, httpNode('call')],
      [edge('check', 'ok', 'once'), edge('once', 'new', 'map'), edge('map', 'ok', 'call')],
    )
    const services = fakeServices({ nowMs: NOW_MS })
    const result = await runGuard(flow, event(), services, SIDE_EFFECTS)
    expect(result.steps.map((s) => [s.node, s.port, s.phase])).toEqual([
      ['check', 'ok', 'guard'],
      ['once', 'new', 'guard'],
    ])
    expect(result.work).toEqual([{ node: 'map', message: { payload: PAYLOAD } }])
    expect(result.payload).toEqual(PAYLOAD)
    expect(result.claims).toEqual([
      expect.objectContaining({ scope: 'engine-test/once', key: 'evt_1', ttlSec: 604_800 }),
    ])
    expect(services.requests).toEqual([])
  })

  it('leaves a guard node placed behind a work node to the queue', async () => {
    const route: FlowNode = { id: 'route', kind: 'branch', config: { cases: [{ port: 'yes', when: 'true' }] } }
    const flow = compile([CHECK, MAP, route], [edge('check', 'ok', 'map'), edge('map', 'ok', 'route')])
    const result = await runGuard(flow, event(), fakeServices({ nowMs: NOW_MS }), SIDE_EFFECTS)
    expect(result.steps.map((s) => s.node)).toEqual(['check'])
    expect(result.work.map((w) => w.node)).toEqual(['map'])
  })

  it('marks verify skipped and goes on through ok when asked to skip verification', async () => {
    const verify: FlowNode = {
      id: 'verify',
      kind: 'verify',
      config: { scheme: 'stripe', secret: { ref: 'CONDUIT_WEBHOOK_SECRET' } },
    }
    const flow = compile([verify, CHECK], [edge('verify', 'ok', 'check')])
    const result = await runGuard(flow, event(), fakeServices({ nowMs: NOW_MS }), { ...PREVIEW, skipVerify: true })
    expect(result.rejection).toBeUndefined()
    expect(result.steps[0]).toMatchObject({ node: 'verify', port: 'ok', skipped: true })
    expect(result.steps.map((s) => [s.node, s.port])).toEqual([
      ['verify', 'ok'],
      ['check', 'ok'],
    ])
  })

  it('rejects the unsigned request with 401 when verification is not skipped', async () => {
    const verify: FlowNode = {
      id: 'verify',
      kind: 'verify',
      config: { scheme: 'stripe', secret: { ref: 'CONDUIT_WEBHOOK_SECRET' } },
    }
    const flow = compile([verify, CHECK], [edge('verify', 'ok', 'check')])
    const services = fakeServices({ nowMs: NOW_MS, secrets: { CONDUIT_WEBHOOK_SECRET: ['whsec_x'] } })
    const result = await runGuard(flow, event(), services, PREVIEW)
    expect(result.rejection).toMatchObject({ status: 401, code: 'invalid_signature', node: 'verify' })
    expect(result.steps[0]?.skipped).toBeUndefined()
  })

  it('sends a schema reject down a wired invalid port instead of answering 422', async () => {
    const quarantine: FlowNode = {
      id: 'quarantine',
      kind: 'transform',
      config: { expression: '{ "rejected": $error.category, "paths": $error.details.path }' },
    }
    const flow = compile([CHECK, quarantine], [edge('check', 'invalid', 'quarantine')])
    const services = fakeServices({ nowMs: NOW_MS })
    const guard = await runGuard(flow, event({ id: 42 }), services, SIDE_EFFECTS)
    expect(guard.rejection).toBeUndefined()
    expect(guard.steps).toEqual([
      expect.objectContaining({
        node: 'check',
        port: 'invalid',
        error: expect.objectContaining({ category: 'schema_reject' }),
      }),
    ])
    expect(guard.work).toEqual([
      {
        node: 'quarantine',
        message: { payload: { id: 42 }, error: expect.objectContaining({ category: 'schema_reject' }) },
      },
    ])
    const start = guard.work[0]
    if (!start) throw new Error('no work')
    const work = await runWork(flow, event({ id: 42 }), start, 1, services, SIDE_EFFECTS)
    expect(work.steps[0]?.output).toEqual({ rejected: 'schema_reject', paths: '/id' })
  })
})

describe('runWork', () => {
  const first = httpNode('first')
  const remap: FlowNode = { id: 'remap', kind: 'transform', config: { expression: '{ "ref": crmId }' } }
  const second = httpNode('second')
  const flow = compile(
    [MAP, first, remap, second],
    [edge('map', 'ok', 'first'), edge('first', 'ok', 'remap'), edge('remap', 'ok', 'second')],
  )

  it('runs the effect it starts from, then stops before the next effect and queues it', async () => {
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 200, body: '{"crmId":9}' }] })
    const start = { node: 'first', message: { payload: { ref: 'r1', who: 'ada' } } }
    const result = await runWork(flow, event(), start, 1, services, SIDE_EFFECTS)
    expect(result.steps.map((s) => [s.node, s.port, s.phase])).toEqual([
      ['first', 'ok', 'work'],
      ['remap', 'ok', 'work'],
    ])
    expect(services.requests.map((r) => r.url)).toEqual(['https://crm.test/r1'])
    expect(result.work).toEqual([{ node: 'second', message: { payload: { ref: 9 }, lineage: { ref: ['crmId'] } } }])
  })

  it('runs through the first effect when it starts from a node that is not one, and queues the next effect', async () => {
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 200, body: '{"crmId":9}' }] })
    const result = await runWork(
      flow,
      event(),
      { node: 'map', message: { payload: PAYLOAD } },
      1,
      services,
      SIDE_EFFECTS,
    )
    expect(result.steps.map((s) => s.node)).toEqual(['map', 'first', 'remap'])
    expect(result.work.map((w) => w.node)).toEqual(['second'])
    expect(services.requests).toHaveLength(1)
  })

  it('retries the effect itself, not the node the item started from, when that effect fails', async () => {
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 503, body: '' }] })
    const result = await runWork(
      flow,
      event(),
      { node: 'map', message: { payload: PAYLOAD } },
      1,
      services,
      SIDE_EFFECTS,
    )
    expect(result.steps.map((s) => s.node)).toEqual(['map', 'first'])
    expect(result.retry).toMatchObject({ node: 'first', nextAttempt: 2 })
    expect(result.retry?.message.payload).toEqual(result.steps[0]?.output)
    expect(result.lineage.map).toBeDefined()
  })

  it('records the attempt number on the step of the node it resumes', async () => {
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 200, body: '{"crmId":9}' }] })
    const start = { node: 'first', message: { payload: { ref: 'r1' } } }
    const result = await runWork(flow, event(), start, 4, services, SIDE_EFFECTS)
    expect(result.steps.map((s) => [s.node, s.attempt])).toEqual([
      ['first', 4],
      ['remap', 1],
    ])
  })
})

describe('retry decisions', () => {
  const call = httpNode('call', { retry: { delaysMs: [0, 1_000, 60_000] } })
  const start = { node: 'call', message: { payload: { ref: 'r1' } } }

  function busy(retryAfter?: string) {
    return fakeServices({
      nowMs: NOW_MS,
      downstream: [
        { status: 503, body: 'busy', headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } },
      ],
    })
  }

  it('waits the longer of the schedule’s next delay and the downstream’s Retry-After', async () => {
    const flow = compile([call], [])
    const afterFirst = await runWork(flow, event(), start, 1, busy('5'), SIDE_EFFECTS)
    expect(afterFirst.retry).toMatchObject({
      node: 'call',
      message: start.message,
      at: NOW_MS + 5_000,
      nextAttempt: 2,
      error: { category: 'retriable', status: 503, retryAfterMs: 5_000 },
    })
    const afterSecond = await runWork(flow, event(), start, 2, busy('5'), SIDE_EFFECTS)
    expect(afterSecond.retry).toMatchObject({ at: NOW_MS + 60_000, nextAttempt: 3 })
    expect(afterFirst.deadLetters).toEqual([])
  })

  it('follows the schedule when the downstream sends no Retry-After', async () => {
    const flow = compile([call], [])
    const result = await runWork(flow, event(), start, 1, busy(), SIDE_EFFECTS)
    expect(result.retry).toMatchObject({ at: NOW_MS + 1_000, nextAttempt: 2 })
  })

  it('gives up after the last attempt and puts the event on the dead letters', async () => {
    const flow = compile([call], [])
    const result = await runWork(flow, event(), start, 3, busy('5'), SIDE_EFFECTS)
    expect(result.retry).toBeUndefined()
    expect(result.deadLetters).toEqual([
      expect.objectContaining({ node: 'call', error: expect.objectContaining({ category: 'retriable', status: 503 }) }),
    ])
    expect(result.steps[0]).toMatchObject({ node: 'call', attempt: 3, port: 'error' })
  })

  it('sends the error out of a wired error port after the last attempt', async () => {
    const note: FlowNode = { id: 'note', kind: 'transform', config: { expression: '{ "failed": $error.status }' } }
    const flow = compile([call, note], [edge('call', 'error', 'note')])
    const result = await runWork(flow, event(), start, 3, busy(), SIDE_EFFECTS)
    expect(result.deadLetters).toEqual([])
    expect(result.steps.map((s) => [s.node, s.port])).toEqual([
      ['call', 'error'],
      ['note', 'ok'],
    ])
    expect(result.steps[1]?.output).toEqual({ failed: 503 })
  })

  it('does not retry a non-retriable answer', async () => {
    const flow = compile([call], [])
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 400, body: 'no' }] })
    const result = await runWork(flow, event(), start, 1, services, SIDE_EFFECTS)
    expect(result.retry).toBeUndefined()
    expect(result.deadLetters.map((d) => d.error.category)).toEqual(['non_retriable'])
  })
})

describe('redaction', () => {
  const keep: FlowNode = { id: 'keep', kind: 'transform', config: { expression: '$merge([$, { "seen": true }])' } }
  const retention = { redact: ['$.data.email'] }

  it('redacts the listed fields in step inputs and outputs', async () => {
    const flow = compile([CHECK, keep], [edge('check', 'ok', 'keep')], { retention })
    const result = await runToEnd(flow, event(), fakeServices({ nowMs: NOW_MS }), PREVIEW)
    const [check, kept] = result.steps
    expect(check?.input).toEqual({ ...PAYLOAD, data: { ...PAYLOAD.data, email: REDACTED } })
    expect(kept?.input).toEqual({ ...PAYLOAD, data: { ...PAYLOAD.data, email: REDACTED } })
    expect(kept?.output).toEqual({ ...PAYLOAD, data: { ...PAYLOAD.data, email: REDACTED }, seen: true })
  })

  it('hands the next node the payload unredacted', async () => {
    const flow = compile([CHECK, keep], [edge('check', 'ok', 'keep')], { retention })
    const guard = await runGuard(flow, event(), fakeServices({ nowMs: NOW_MS }), SIDE_EFFECTS)
    expect(guard.work[0]?.message.payload).toEqual(PAYLOAD)
    expect(guard.payload).toEqual(PAYLOAD)
    const start = guard.work[0]
    if (!start) throw new Error('no work')
    const work = await runWork(flow, event(), start, 1, fakeServices({ nowMs: NOW_MS }), SIDE_EFFECTS)
    expect(work.steps[0]?.input).toMatchObject({ data: { email: REDACTED } })
  })

  it('sends the downstream the real value of a redacted field', async () => {
    const call = httpNode('call', { url: 'https://crm.test/users' })
    const flow = compile([keep, call], [edge('keep', 'ok', 'call')], { retention })
    const services = fakeServices({ nowMs: NOW_MS })
    await runToEnd(flow, event(), services, SIDE_EFFECTS)
    expect(JSON.parse(services.requests[0]?.body ?? 'null')).toMatchObject({ data: { email: 'ada@example.com' } })
  })
})

describe('lineage', () => {
  it('traces a second transform’s fields back through the first to the event', async () => {
    const rename: FlowNode = {
      id: 'rename',
      kind: 'transform',
      config: { expression: '{ "externalId": ref, "name": $uppercase(who), "at": $event.receivedAt }' },
    }
    const flow = compile([MAP, rename], [edge('map', 'ok', 'rename')])
    const result = await runToEnd(flow, event(), fakeServices({ nowMs: NOW_MS }), PREVIEW)
    expect(result.lineage).toEqual({
      map: { ref: ['data.reportId'], who: ['data.user'] },
      rename: { externalId: ['data.reportId'], name: ['data.user'], at: ['$event.receivedAt'] },
    })
    // The step keeps the node's own lineage, against its own input.
    expect(result.steps[1]?.lineage).toEqual({ externalId: ['ref'], name: ['who'], at: ['$event.receivedAt'] })
    expect(result.steps[1]?.output).toEqual({ externalId: 'r1', name: 'ADA', at: '2026-01-17T12:05:03.000Z' })
  })

  it('does not trace a transform of an API’s answer back to the event', async () => {
    const after: FlowNode = { id: 'after', kind: 'transform', config: { expression: '{ "crm": crmId }' } }
    const flow = compile([MAP, httpNode('call'), after], [edge('map', 'ok', 'call'), edge('call', 'ok', 'after')])
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 200, body: '{"crmId":9}' }] })
    const result = await runToEnd(flow, event(), services, SIDE_EFFECTS)
    expect(result.lineage.after).toEqual({ crm: ['crmId'] })
  })
})

describe('unexpected errors', () => {
  const explode = defineNodeKind({
    kind: 'explode',
    title: 'Explode',
    description: 'Throws something that is not a StepError.',
    phase: 'work',
    effect: true,
    color: '#000000',
    config: Type.Object({}, { additionalProperties: false }),
    defaults: {},
    ports: () => ({ ok: {} }),
    retryDelaysMs: () => [0, 1_000, 2_000],
    async run() {
      throw new TypeError('cannot read properties of undefined')
    },
  })
  const kinds = new Map<string, NodeKind>([...nodeKinds, ['explode', explode as unknown as NodeKind]])

  it('treats an error that is not a StepError as non_retriable, not retried, and dead-lettered', async () => {
    const flow = compile([MAP, { id: 'boom', kind: 'explode', config: {} }], [edge('map', 'ok', 'boom')], {}, kinds)
    const result = await runToEnd(flow, event(), fakeServices({ nowMs: NOW_MS }), SIDE_EFFECTS)
    expect(result.retry).toBeUndefined()
    expect(result.deadLetters).toEqual([
      expect.objectContaining({
        node: 'boom',
        error: { category: 'non_retriable', message: 'unexpected error: cannot read properties of undefined' },
      }),
    ])
    expect(result.steps[1]).toMatchObject({ node: 'boom', port: null, error: { category: 'non_retriable' } })
  })
})

describe('runToEnd', () => {
  it('gives the respond node’s answer for a flow that answers on completion', async () => {
    const answer: FlowNode = {
      id: 'answer',
      kind: 'respond',
      config: { status: 201, body: '{ "received": ref, "event": $event.id }' },
    }
    const flow = compile([CHECK, MAP, answer], [edge('check', 'ok', 'map'), edge('map', 'ok', 'answer')], {
      trigger: { path: 'engine/test', respond: 'completed' },
    })
    const result = await runToEnd(flow, event(), fakeServices({ nowMs: NOW_MS }), SIDE_EFFECTS)
    expect(result.answer).toEqual({ status: 201, body: { received: 'r1', event: 'evt-engine' } })
    expect(result.steps.map((s) => [s.node, s.port])).toEqual([
      ['check', 'ok'],
      ['map', 'ok'],
      ['answer', null],
    ])
    expect(result.work).toEqual([])
  })

  it('runs every effect in turn, one after another', async () => {
    const flow = compile(
      [MAP, httpNode('first'), httpNode('second')],
      [edge('map', 'ok', 'first'), edge('first', 'ok', 'second')],
    )
    const services = fakeServices({ nowMs: NOW_MS, downstream: [{ status: 200, body: '{"ref":"from-first"}' }] })
    const result = await runToEnd(flow, event(), services, SIDE_EFFECTS)
    expect(services.requests.map((r) => r.url)).toEqual(['https://crm.test/r1', 'https://crm.test/from-first'])
    expect(result.work).toEqual([])
  })
})
