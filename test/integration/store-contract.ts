/**
 * @module The behaviour every Store must have, as one vitest suite: `describeStoreContract('sqlite', open)`.
 *
 * Clocks: the work an accepted delivery queues is due from its `receivedAt`, and its claims are judged
 * expired against `receivedAt` too (the engine's clock, not the store's), so a store behaves the same under
 * a test's fixed clock. Follow-up work queued by `complete` is due at once. Deliveries are received around
 * the real time and leases are mostly taken a minute later, so nothing here depends on sub-second timing.
 */
import { createHash, randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DeadLetter, DedupeClaim, Step, WorkStart } from '../../runtime/engine/types.ts'
import { canonicalJson } from '../../runtime/model/canonical-json.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import {
  type AcceptedDelivery,
  OPERATOR_CATEGORY,
  type RejectedDelivery,
  type ReplayRun,
  type Store,
  VersionConflict,
  type WorkItem,
  type WorkOutcome,
} from '../../runtime/store/store.ts'

export interface OpenedStore {
  store: Store
  /** Opens the same data again (after `store.close()`), for the durability checks. */
  reopen?: () => Promise<Store>
  /**
   * Deletes an event's work items behind the store's back: what a lost write or a bug leaves, an open event
   * with nothing queued, which no store method makes (reconciliation must still find and resume it).
   */
  loseWork: (eventId: string) => Promise<void>
  /** Closes whatever is still open and removes the data. */
  cleanup: () => Promise<void>
}

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

const iso = (ms: number) => new Date(ms).toISOString()

// --- factories

export function flowDocument(id: string, version: number, name = `Flow ${id}`): FlowDocument {
  return {
    schemaVersion: 1,
    id,
    version,
    name,
    trigger: { path: `${id}/events` },
    nodes: [
      {
        id: 'verify',
        kind: 'verify',
        config: { scheme: 'bearer', secret: { ref: 'TOKEN' } },
        position: { x: 0, y: 0 },
      },
      { id: 'map', kind: 'transform', config: { expression: `{ "v": ${version} }` }, position: { x: 200, y: 0 } },
    ],
    edges: [{ from: 'verify', port: 'ok', to: 'map' }],
  }
}

export function step(node: string, overrides: Partial<Step> = {}): Step {
  return {
    node,
    kind: 'verify',
    phase: 'guard',
    port: 'ok',
    attempt: 1,
    startedAt: iso(Date.now()),
    durationMs: 0.25,
    input: { id: 'ord_1' },
    output: { id: 'ord_1' },
    ...overrides,
  }
}

export function claim(key: string, expiresAtMs: number, scope = 'orders/dedupe'): DedupeClaim {
  return { scope, key, ttlSec: Math.max(0, Math.round((expiresAtMs - Date.now()) / 1000)), expiresAt: iso(expiresAtMs) }
}

export function workStart(node: string, payload: unknown = { id: 'ord_1' }): WorkStart {
  return { node, message: { payload, lineage: { id: ['id'] } } }
}

export function deadLetter(node: string, message = 'downstream said 400'): DeadLetter {
  return { node, error: { category: 'non_retriable', message, status: 400 }, message: { payload: { id: 'ord_1' } } }
}

/** A delivery that passed its guards; by default with nothing queued (so it is completed at once). */
export function delivery(overrides: Partial<AcceptedDelivery> = {}): AcceptedDelivery {
  const eventId = overrides.eventId ?? `evt_${randomUUID()}`
  return {
    eventId,
    requestId: `req_${randomUUID()}`,
    flowId: 'orders',
    flowVersion: 1,
    path: 'orders/events',
    receivedAt: iso(Date.now()),
    headers: { 'content-type': 'application/json', authorization: '***' },
    rawBody: JSON.stringify({ id: 'ord_1', total: 12.5, note: 'café' }),
    steps: [step('verify'), step('dedupe', { kind: 'dedupe', port: 'new' })],
    claims: [],
    work: [],
    deadLetters: [],
    lineage: {},
    ...overrides,
  }
}

export function rejection(overrides: Partial<RejectedDelivery> = {}): RejectedDelivery {
  return {
    eventId: `evt_${randomUUID()}`,
    requestId: `req_${randomUUID()}`,
    flowId: 'orders',
    flowVersion: 1,
    path: 'orders/events',
    receivedAt: iso(Date.now()),
    status: 401,
    code: 'invalid_signature',
    message: 'no signature matched',
    sizeBytes: 321,
    diagnosis: { hint: 'the secret looks rotated' },
    ...overrides,
  }
}

export function outcome(overrides: Partial<WorkOutcome> = {}): WorkOutcome {
  return { steps: [], next: [], deadLetters: [], lineage: {}, ...overrides }
}

/** A replay run of an event: by default on version 3, now, with one step and nothing queued. */
export function replayRun(eventId: string, overrides: Partial<ReplayRun> = {}): ReplayRun {
  return {
    eventId,
    flowVersion: 3,
    steps: [step('verify')],
    work: [],
    deadLetters: [],
    lineage: {},
    at: iso(Date.now()),
    ...overrides,
  }
}

function workStep(node: string, overrides: Partial<Step> = {}): Step {
  return step(node, { kind: 'transform', phase: 'work', ...overrides })
}

// --- the suite

export function describeStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`${name} store contract`, () => {
    let opened: OpenedStore
    let store: Store
    /** A lease time safely after every delivery received so far. */
    let later: () => Date

    beforeEach(async () => {
      opened = await open()
      store = opened.store
      later = () => new Date(Date.now() + MINUTE)
    })

    afterEach(async () => {
      await opened.cleanup()
    })

    /** Accepts a delivery with one queued node and leases its item. */
    async function acceptAndLease(owner = 'worker-a', overrides: Partial<AcceptedDelivery> = {}) {
      const accepted = delivery({ work: [workStart('map')], ...overrides })
      await store.accept(accepted)
      const [item] = await store.lease(owner, 1, 30_000, later())
      if (!item) throw new Error('nothing was leased')
      return { delivery: accepted, item }
    }

    describe('flows', () => {
      it('saves version 1 of a new flow with the SHA-256 of its canonical document', async () => {
        const doc = flowDocument('orders', 1)
        const saved = await store.saveFlowVersion(doc, 'ana')
        const hash = createHash('sha256').update(canonicalJson(doc)).digest('hex')
        expect(saved).toMatchObject({ flowId: 'orders', version: 1, hash, savedBy: 'ana', document: doc })
        expect(Number.isNaN(Date.parse(saved.savedAt))).toBe(false)
        expect(await store.getFlowVersion('orders', 1)).toEqual(saved)
        expect(await store.latestFlowVersion('orders')).toEqual(saved)
        expect(await store.getFlowVersion('orders', 2)).toBeUndefined()
        expect(await store.latestFlowVersion('nothing')).toBeUndefined()
      })

      it('refuses a version that is not the latest + 1 with a VersionConflict naming the latest', async () => {
        await expect(store.saveFlowVersion(flowDocument('orders', 2), null)).rejects.toBeInstanceOf(VersionConflict)
        await store.saveFlowVersion(flowDocument('orders', 1), null)
        const again = store.saveFlowVersion(flowDocument('orders', 1), null)
        await expect(again).rejects.toBeInstanceOf(VersionConflict)
        await expect(again).rejects.toMatchObject({ latest: 1 })
        await expect(store.saveFlowVersion(flowDocument('orders', 3), null)).rejects.toMatchObject({ latest: 1 })
        expect((await store.listFlowVersions('orders')).map((v) => v.version)).toEqual([1])
      })

      it('lets exactly one of two concurrent saves from the same base win', async () => {
        await store.saveFlowVersion(flowDocument('orders', 1), 'ana')
        const results = await Promise.allSettled([
          store.saveFlowVersion(flowDocument('orders', 2, 'from ana'), 'ana'),
          store.saveFlowVersion(flowDocument('orders', 2, 'from bo'), 'bo'),
        ])
        const won = results.filter((r) => r.status === 'fulfilled')
        const lost = results.filter((r) => r.status === 'rejected')
        expect(won).toHaveLength(1)
        expect(lost).toHaveLength(1)
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflict)
        expect((await store.latestFlowVersion('orders'))?.version).toBe(2)
      })

      it('lists the versions of a flow in order, without their documents', async () => {
        await store.saveFlowVersion(flowDocument('orders', 1), 'ana')
        await store.saveFlowVersion(flowDocument('orders', 2), 'bo')
        const versions = await store.listFlowVersions('orders')
        expect(versions.map((v) => [v.version, v.savedBy])).toEqual([
          [1, 'ana'],
          [2, 'bo'],
        ])
        expect(versions[0]).not.toHaveProperty('document')
        expect(versions[0]?.hash).not.toBe(versions[1]?.hash)
        expect(await store.listFlowVersions('nothing')).toEqual([])
      })

      it('deploys a version, moves the deployment on redeploy, and lists flows with their newest version', async () => {
        await store.saveFlowVersion(flowDocument('orders', 1, 'Orders'), null)
        await store.saveFlowVersion(flowDocument('orders', 2, 'Orders v2'), null)
        await store.saveFlowVersion(flowDocument('invoices', 1, 'Invoices'), null)
        expect(await store.deployedFlows()).toEqual(new Map())
        await store.deployFlow('orders', 1)
        expect(await store.deployedFlows()).toEqual(new Map([['orders', 1]]))
        await store.deployFlow('orders', 2)
        expect(await store.deployedFlows()).toEqual(new Map([['orders', 2]]))
        const flows = await store.listFlows()
        expect([...flows].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
          { id: 'invoices', name: 'Invoices', version: 1, deployedVersion: null },
          { id: 'orders', name: 'Orders v2', version: 2, deployedVersion: 2 },
        ])
      })

      it('refuses to deploy a version that was never saved', async () => {
        await store.saveFlowVersion(flowDocument('orders', 1), null)
        await expect(store.deployFlow('orders', 2)).rejects.toThrow()
        await expect(store.deployFlow('nothing', 1)).rejects.toThrow()
        expect(await store.deployedFlows()).toEqual(new Map())
      })
    })

    describe('accepting deliveries', () => {
      it('keeps the raw body, masked headers, guard steps, lineage and queued work of an accepted delivery', async () => {
        const accepted = delivery({
          work: [workStart('map'), workStart('audit')],
          lineage: { route: { type: ['type'] } },
          test: true,
        })
        expect(await store.accept(accepted)).toEqual({ status: 'accepted', eventId: accepted.eventId })
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({
          id: accepted.eventId,
          requestId: accepted.requestId,
          flowId: 'orders',
          flowVersion: 1,
          path: 'orders/events',
          status: 'accepted',
          receivedAt: accepted.receivedAt,
          headers: accepted.headers,
          rawBody: accepted.rawBody,
          sizeBytes: Buffer.byteLength(accepted.rawBody),
          duplicateOf: null,
          test: true,
          rejection: null,
          steps: accepted.steps,
          lineage: { route: { type: ['type'] } },
          deadLetters: [],
          pendingWork: 2,
        })
        expect(Number.isNaN(Date.parse(event?.updatedAt ?? ''))).toBe(false)
      })

      it('marks a delivery with nothing queued completed, and one whose guards dead-lettered dead', async () => {
        const done = delivery()
        expect(await store.accept(done)).toEqual({ status: 'completed', eventId: done.eventId })
        const dead = delivery({ deadLetters: [deadLetter('branch', 'no case matched')] })
        expect(await store.accept(dead)).toEqual({ status: 'dead', eventId: dead.eventId })
        expect((await store.getEvent(done.eventId))?.status).toBe('completed')
        const detail = await store.getEvent(dead.eventId)
        expect(detail?.status).toBe('dead')
        expect(detail?.deadLetters).toMatchObject([
          { eventId: dead.eventId, flowId: 'orders', flowVersion: 1, node: 'branch', replayedAt: null },
        ])
        expect(detail?.deadLetters[0]?.error.message).toBe('no case matched')
      })

      it('keeps a delivery the engine found duplicate as a duplicate of the first event', async () => {
        const first = delivery({ claims: [claim('ord_1', Date.now() + DAY)], work: [workStart('map')] })
        await store.accept(first)
        const second = delivery({ duplicateOf: first.eventId })
        expect(await store.accept(second)).toEqual({
          status: 'duplicate',
          eventId: second.eventId,
          duplicateOf: first.eventId,
        })
        expect(await store.getEvent(second.eventId)).toMatchObject({
          status: 'duplicate',
          duplicateOf: first.eventId,
          rawBody: second.rawBody,
          pendingWork: 0,
        })
      })

      it('records a rejected request as metadata only, with what was answered', async () => {
        const refused = rejection({ details: [{ path: '/type', rule: 'required' }] })
        await store.recordRejection(refused)
        expect(await store.getEvent(refused.eventId)).toMatchObject({
          status: 'rejected',
          rawBody: null,
          sizeBytes: 321,
          flowId: 'orders',
          flowVersion: 1,
          rejection: {
            status: 401,
            code: 'invalid_signature',
            message: 'no signature matched',
            diagnosis: { hint: 'the secret looks rotated' },
            details: [{ path: '/type', rule: 'required' }],
          },
          steps: [],
          pendingWork: 0,
        })
        const unrouted = rejection({ flowId: undefined, flowVersion: undefined, status: 400, code: 'malformed_json' })
        delete unrouted.flowId
        delete unrouted.flowVersion
        delete unrouted.diagnosis
        await store.recordRejection(unrouted)
        expect(await store.getEvent(unrouted.eventId)).toMatchObject({ flowId: null, flowVersion: null })
      })

      it('refuses a second event with the same id', async () => {
        const first = delivery()
        await store.accept(first)
        await expect(store.accept(delivery({ eventId: first.eventId }))).rejects.toThrow()
      })

      it('finds the event holding a dedupe key until the claim expires', async () => {
        const expiresAt = Date.now() + MINUTE
        const first = delivery({ claims: [claim('ord_1', expiresAt)] })
        await store.accept(first)
        expect(await store.findClaim('orders/dedupe', 'ord_1', new Date())).toBe(first.eventId)
        expect(await store.findClaim('orders/dedupe', 'ord_1', new Date(expiresAt + 1))).toBeUndefined()
        expect(await store.findClaim('orders/dedupe', 'ord_2', new Date())).toBeUndefined()
        expect(await store.findClaim('other/dedupe', 'ord_1', new Date())).toBeUndefined()
      })

      it('gives exactly one of 50 concurrent deliveries of one dedupe key the claim; the 49 others are its duplicates', async () => {
        const deliveries = Array.from({ length: 50 }, () =>
          delivery({ claims: [claim('ord_race', Date.now() + DAY)], work: [workStart('map')] }),
        )
        const results = await Promise.all(deliveries.map((d) => store.accept(d)))
        const winners = results.filter((r) => r.status !== 'duplicate')
        expect(winners).toHaveLength(1)
        const winner = winners[0]?.eventId
        expect(winners[0]?.status).toBe('accepted')
        const duplicates = results.filter((r) => r.status === 'duplicate')
        expect(duplicates).toHaveLength(49)
        for (const duplicate of duplicates) expect(duplicate).toMatchObject({ duplicateOf: winner })
        expect(await store.findClaim('orders/dedupe', 'ord_race', new Date())).toBe(winner)
        // Only the winner queued work.
        expect((await store.queueFigures(later())).pending).toBe(1)
        const loser = duplicates[0]?.eventId ?? ''
        expect(await store.getEvent(loser)).toMatchObject({ status: 'duplicate', duplicateOf: winner, pendingWork: 0 })
      })

      it('keeps the steps of a delivery that lost a claim race but queues nothing and claims nothing for it', async () => {
        const holder = delivery({ claims: [claim('ord_1', Date.now() + DAY)] })
        await store.accept(holder)
        const late = delivery({
          claims: [claim('ord_1', Date.now() + 2 * DAY), claim('ord_other', Date.now() + DAY)],
          work: [workStart('map')],
          deadLetters: [deadLetter('audit')],
        })
        expect(await store.accept(late)).toEqual({
          status: 'duplicate',
          eventId: late.eventId,
          duplicateOf: holder.eventId,
        })
        const event = await store.getEvent(late.eventId)
        expect(event).toMatchObject({
          status: 'duplicate',
          duplicateOf: holder.eventId,
          pendingWork: 0,
          deadLetters: [],
        })
        expect(event?.steps).toEqual(late.steps)
        expect(await store.findClaim('orders/dedupe', 'ord_other', new Date())).toBeUndefined()
        expect(await store.findClaim('orders/dedupe', 'ord_1', new Date(Date.now() + DAY + MINUTE))).toBeUndefined()
      })

      it('replaces an expired claim: the new delivery is accepted and holds the key', async () => {
        const old = delivery({ receivedAt: iso(Date.now() - 2 * DAY), claims: [claim('ord_1', Date.now() - DAY)] })
        await store.accept(old)
        const fresh = delivery({ claims: [claim('ord_1', Date.now() + DAY)], work: [workStart('map')] })
        expect(await store.accept(fresh)).toEqual({ status: 'accepted', eventId: fresh.eventId })
        expect(await store.findClaim('orders/dedupe', 'ord_1', new Date())).toBe(fresh.eventId)
      })

      it('keeps a raw body and a dedupe key byte for byte, whatever characters they hold', async () => {
        const rawBody = '\ufeff{"id":"ord_\u0000 1",\r\n "note":"caf\u00e9 \ud83d\ude80"}  \n\t'
        const key = 'ord_\u0000_\ud83d\ude80'
        const accepted = delivery({
          rawBody,
          headers: { 'x-note': 'na\u00efve \ud83d\ude80' },
          claims: [claim(key, Date.now() + DAY)],
          work: [workStart('map')],
        })
        await store.accept(accepted)
        const event = await store.getEvent(accepted.eventId)
        expect(event?.rawBody).toBe(rawBody)
        expect(event?.sizeBytes).toBe(Buffer.byteLength(rawBody, 'utf8'))
        expect(event?.headers).toEqual({ 'x-note': 'na\u00efve \ud83d\ude80' })
        expect(await store.findClaim('orders/dedupe', key, new Date())).toBe(accepted.eventId)
        expect(await store.findClaim('orders/dedupe', 'ord_', new Date())).toBeUndefined()
        const [item] = await store.lease('worker-a', 1, 30_000, later())
        expect(item?.event?.rawBody).toBe(rawBody)
      })
    })

    describe('leasing work', () => {
      it('leases due items oldest first, up to the maximum, and marks their events processing', async () => {
        const now = Date.now()
        const events = [3, 1, 2].map((age) => delivery({ receivedAt: iso(now - age * 1000), work: [workStart('map')] }))
        for (const event of events) await store.accept(event)
        const items = await store.lease('worker-a', 2, 30_000, later())
        expect(items.map((i) => i.eventId)).toEqual([events[0]?.eventId, events[2]?.eventId])
        for (const item of items) {
          expect(item).toMatchObject({
            flowId: 'orders',
            flowVersion: 1,
            node: 'map',
            attempt: 1,
            leaseOwner: 'worker-a',
          })
          expect(item.message.payload).toEqual({ id: 'ord_1' })
          expect(Date.parse(item.leaseExpiresAt ?? '')).toBeGreaterThan(Date.now())
          expect((await store.getEvent(item.eventId))?.status).toBe('processing')
        }
        expect((await store.getEvent(events[1]?.eventId ?? ''))?.status).toBe('accepted')
        expect(await store.lease('worker-a', 0, 30_000, later())).toEqual([])
      })

      it('leases nothing before it is due', async () => {
        await store.accept(delivery({ work: [workStart('map')] }))
        expect(await store.lease('worker-a', 10, 30_000, new Date(Date.now() - MINUTE))).toEqual([])
      })

      it('never gives the same item to two concurrent leases', async () => {
        for (let i = 0; i < 20; i++) await store.accept(delivery({ work: [workStart('map')] }))
        const batches = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.lease(`worker-${i}`, 3, 30_000, later())),
        )
        const ids = batches.flat().map((item) => item.id)
        expect(ids).toHaveLength(20)
        expect(new Set(ids).size).toBe(20)
        expect(await store.lease('worker-x', 10, 30_000, later())).toEqual([])
      })

      it('gives an item whose lease expired to another owner, and ignores the first owner finishing it late', async () => {
        await store.accept(delivery({ work: [workStart('map')] }))
        const start = Date.now() + MINUTE
        const [first] = await store.lease('worker-a', 1, 1_000, new Date(start))
        expect(first).toBeDefined()
        expect(await store.lease('worker-b', 1, 1_000, new Date(start + 500))).toEqual([])
        const [taken] = await store.lease('worker-b', 1, 30_000, new Date(start + 1_001))
        expect(taken).toMatchObject({ id: first?.id, leaseOwner: 'worker-b', attempt: 1 })

        await store.complete(first as WorkItem, outcome({ steps: [workStep('map')] }))
        let event = await store.getEvent(taken?.eventId ?? '')
        expect(event).toMatchObject({ status: 'processing', pendingWork: 1 })
        expect(event?.steps).toHaveLength(2)

        await store.complete(taken as WorkItem, outcome({ steps: [workStep('map')] }))
        event = await store.getEvent(taken?.eventId ?? '')
        expect(event).toMatchObject({ status: 'completed', pendingWork: 0 })
        expect(event?.steps).toHaveLength(3)
      })

      it('gives back the leases of a stopping worker so another can take them at once', async () => {
        for (let i = 0; i < 3; i++) await store.accept(delivery({ work: [workStart('map')] }))
        expect(await store.lease('worker-a', 2, 30_000, later())).toHaveLength(2)
        expect(await store.releaseLeases('worker-a')).toBe(2)
        expect(await store.releaseLeases('worker-a')).toBe(0)
        expect(await store.lease('worker-b', 10, 30_000, later())).toHaveLength(3)
      })

      it('renews a lease so that no other owner takes the item after its first expiry', async () => {
        await store.accept(delivery({ work: [workStart('map')] }))
        const start = Date.now() + MINUTE
        const [item] = await store.lease('worker-a', 1, 1_000, new Date(start))
        expect(await store.extendLeases('worker-a', [item?.id ?? ''], 1_000, new Date(start + 800))).toEqual([item?.id])
        expect(await store.lease('worker-b', 1, 1_000, new Date(start + 1_500))).toEqual([])
        const [taken] = await store.lease('worker-b', 1, 1_000, new Date(start + 1_801))
        expect(taken).toMatchObject({ id: item?.id, leaseOwner: 'worker-b' })
      })

      it('renews only the leases the owner still holds and answers which', async () => {
        for (let i = 0; i < 3; i++) await store.accept(delivery({ work: [workStart('map')] }))
        const start = Date.now() + MINUTE
        const mine = await store.lease('worker-a', 2, 1_000, new Date(start))
        const [theirs] = await store.lease('worker-b', 1, 1_000, new Date(start))
        const ids = mine.map((item) => item.id)
        const extended = await store.extendLeases(
          'worker-a',
          [...ids, theirs?.id ?? '', 'no-such-item'],
          1_000,
          new Date(start + 500),
        )
        expect([...extended].sort()).toEqual([...ids].sort())
        expect(await store.extendLeases('worker-a', [], 1_000, new Date(start + 500))).toEqual([])
        const [retaken] = await store.lease('worker-c', 3, 1_000, new Date(start + 1_001))
        expect(retaken?.id).toBe(theirs?.id)
      })

      it('does not renew a lease another owner took after it expired', async () => {
        await store.accept(delivery({ work: [workStart('map')] }))
        const start = Date.now() + MINUTE
        const [item] = await store.lease('worker-a', 1, 1_000, new Date(start))
        await store.lease('worker-b', 1, 30_000, new Date(start + 1_001))
        expect(await store.extendLeases('worker-a', [item?.id ?? ''], 1_000, new Date(start + 1_100))).toEqual([])
      })

      it('leases an item with what the worker needs of its event: time, headers, raw body and test marker', async () => {
        const accepted = delivery({ work: [workStart('map')], test: true })
        await store.accept(accepted)
        const [item] = await store.lease('worker-a', 1, 30_000, later())
        expect(item?.event).toEqual({
          receivedAt: accepted.receivedAt,
          headers: accepted.headers,
          rawBody: accepted.rawBody,
          test: true,
        })
        const plain = delivery({ work: [workStart('map')] })
        await store.accept(plain)
        const [next] = await store.lease('worker-a', 1, 30_000, later())
        expect(next?.event?.test).toBe(false)
      })
    })

    describe('finishing work', () => {
      it('removes a completed item, appends its steps after the guard steps, and completes the event', async () => {
        const { delivery: accepted, item } = await acceptAndLease()
        const steps = [workStep('map', { output: { total: 12.5 } })]
        await store.complete(item, outcome({ steps, lineage: { map: { total: ['total'] } } }))
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({ status: 'completed', pendingWork: 0, lineage: { map: { total: ['total'] } } })
        expect(event?.steps).toEqual([...accepted.steps, ...steps])
        expect(await store.lease('worker-a', 10, 30_000, later())).toEqual([])
      })

      it('queues the next nodes and keeps the event processing until the last one completes', async () => {
        const { delivery: accepted, item } = await acceptAndLease('worker-a', { lineage: { verify: {} } })
        await store.complete(
          item,
          outcome({
            steps: [workStep('map')],
            next: [workStart('crm', { total: 12.5 }), workStart('audit')],
            lineage: { map: { total: ['total'] } },
          }),
        )
        expect(await store.getEvent(accepted.eventId)).toMatchObject({ status: 'processing', pendingWork: 2 })
        const next = await store.lease('worker-a', 10, 30_000, later())
        expect(next.map((n) => n.node).sort()).toEqual(['audit', 'crm'])
        expect(next.every((n) => n.attempt === 1 && n.eventId === accepted.eventId)).toBe(true)
        expect(next.find((n) => n.node === 'crm')?.message.payload).toEqual({ total: 12.5 })

        const [crm, audit] = [next.find((n) => n.node === 'crm'), next.find((n) => n.node === 'audit')]
        await store.complete(
          crm as WorkItem,
          outcome({ steps: [workStep('crm', { kind: 'http' })], lineage: { map: { total: ['amount'] } } }),
        )
        expect(await store.getEvent(accepted.eventId)).toMatchObject({ status: 'processing', pendingWork: 1 })
        await store.complete(audit as WorkItem, outcome({ steps: [workStep('audit', { kind: 'http' })] }))
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({ status: 'completed', pendingWork: 0 })
        expect(event?.steps.map((s) => s.node)).toEqual(['verify', 'dedupe', 'map', 'crm', 'audit'])
        // Lineage merges per node: a node's newer lineage replaces its older one, other nodes stay.
        expect(event?.lineage).toEqual({ verify: {}, map: { total: ['amount'] } })
      })

      it('moves the event to the dead letters when its work ends in an unwired error', async () => {
        const { delivery: accepted, item } = await acceptAndLease()
        await store.complete(
          item,
          outcome({ steps: [workStep('crm', { kind: 'http', port: 'error' })], deadLetters: [deadLetter('crm')] }),
        )
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({ status: 'dead', pendingWork: 0 })
        expect(event?.deadLetters).toMatchObject([{ node: 'crm', eventId: accepted.eventId, replayedAt: null }])
        expect(event?.deadLetters[0]?.error).toEqual(deadLetter('crm').error)
        expect(event?.deadLetters[0]?.message).toEqual(deadLetter('crm').message)
      })

      it('marks an event dead as soon as one branch dead-letters, even while another branch still runs', async () => {
        const { delivery: accepted, item } = await acceptAndLease()
        await store.complete(item, outcome({ next: [workStart('audit')], deadLetters: [deadLetter('crm')] }))
        expect(await store.getEvent(accepted.eventId)).toMatchObject({ status: 'dead', pendingWork: 1 })
      })

      it('keeps a duplicate a duplicate when its duplicate path finishes', async () => {
        const first = delivery({ claims: [claim('ord_1', Date.now() + DAY)] })
        await store.accept(first)
        const second = delivery({ duplicateOf: first.eventId, work: [workStart('log-duplicate')] })
        await store.accept(second)
        const [item] = await store.lease('worker-a', 1, 30_000, later())
        expect(item?.eventId).toBe(second.eventId)
        expect((await store.getEvent(second.eventId))?.status).toBe('duplicate')
        await store.complete(item as WorkItem, outcome({ steps: [workStep('log-duplicate')] }))
        expect(await store.getEvent(second.eventId)).toMatchObject({ status: 'duplicate', pendingWork: 0 })
      })

      it('keeps a retried item, schedules its next attempt and frees its lease', async () => {
        const { delivery: accepted, item } = await acceptAndLease()
        const at = Date.now() + 5 * MINUTE
        const failed = workStep('crm', {
          kind: 'http',
          port: 'error',
          error: { category: 'retriable', message: '503' },
        })
        await store.retry(item, {
          steps: [failed],
          at: iso(at),
          attempt: 2,
          error: { category: 'retriable', message: '503' },
        })
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({ status: 'processing', pendingWork: 1 })
        expect(event?.steps.at(-1)).toEqual(failed)
        expect(await store.lease('worker-b', 10, 30_000, new Date(at - 1))).toEqual([])
        expect(await store.nextDueAt()).toEqual(new Date(at))
        const figures = await store.queueFigures(new Date(at - 1))
        expect(figures).toMatchObject({ pending: 1, leased: 0, retrying: 1, oldestDueMs: 0 })
        const [again] = await store.lease('worker-b', 10, 30_000, new Date(at))
        expect(again).toMatchObject({ id: item.id, attempt: 2, leaseOwner: 'worker-b', runAt: iso(at) })
      })

      it('ignores a retry from an owner whose lease was taken over', async () => {
        await store.accept(delivery({ work: [workStart('map')] }))
        const start = Date.now() + MINUTE
        const [first] = await store.lease('worker-a', 1, 1_000, new Date(start))
        const [taken] = await store.lease('worker-b', 1, 30_000, new Date(start + 2_000))
        await store.retry(first as WorkItem, {
          steps: [workStep('map')],
          at: iso(start + 10 * MINUTE),
          attempt: 2,
          error: { category: 'retriable', message: 'timeout' },
        })
        const event = await store.getEvent(taken?.eventId ?? '')
        expect(event?.steps).toHaveLength(2)
        expect((await store.queueFigures(new Date(start + 2_000))).leased).toBe(1)
        await store.complete(taken as WorkItem, outcome())
        expect((await store.getEvent(taken?.eventId ?? ''))?.status).toBe('completed')
      })

      it('settles an event once when its two branches finish at the same moment', async () => {
        const accepted = delivery({ work: [workStart('crm'), workStart('audit')] })
        await store.accept(accepted)
        const [first] = await store.lease('worker-a', 1, 30_000, later())
        const [second] = await store.lease('worker-b', 1, 30_000, later())
        await Promise.all([
          store.complete(first as WorkItem, outcome({ steps: [workStep(first?.node ?? '')] })),
          store.complete(second as WorkItem, outcome({ steps: [workStep(second?.node ?? '')] })),
        ])
        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({ status: 'completed', pendingWork: 0 })
        expect(
          event?.steps
            .map((s) => s.node)
            .slice(2)
            .sort(),
        ).toEqual(['audit', 'crm'])
      })
    })

    describe('queue figures', () => {
      it('has no next due time and zero figures when the queue is empty', async () => {
        expect(await store.nextDueAt()).toBeUndefined()
        expect(await store.queueFigures(new Date())).toEqual({
          pending: 0,
          leased: 0,
          retrying: 0,
          deadLetters: 0,
          oldestDueMs: 0,
        })
      })

      it('counts pending, leased and dead-lettered work and the age of the oldest due item', async () => {
        const now = Date.now()
        const oldest = delivery({ receivedAt: iso(now - 10_000), work: [workStart('map')] })
        await store.accept(oldest)
        await store.accept(delivery({ receivedAt: iso(now - 5_000), work: [workStart('map')] }))
        await store.accept(delivery({ receivedAt: iso(now - 1_000), work: [workStart('map')] }))
        await store.accept(delivery({ deadLetters: [deadLetter('branch')] }))
        expect(await store.nextDueAt()).toEqual(new Date(now - 10_000))
        const [leased] = await store.lease('worker-a', 1, 30_000, new Date(now))
        expect(leased?.eventId).toBe(oldest.eventId)
        expect(await store.queueFigures(new Date(now))).toEqual({
          pending: 3,
          leased: 1,
          retrying: 0,
          deadLetters: 1,
          oldestDueMs: 5_000,
        })
        // The leased item counts as leased only until its lease expires.
        expect((await store.queueFigures(new Date(now + 31_000))).leased).toBe(0)
      })
    })

    describe('listing events', () => {
      async function acceptMany(count: number, make: (i: number) => Partial<AcceptedDelivery>) {
        const made: AcceptedDelivery[] = []
        for (let i = 0; i < count; i++) {
          const d = delivery(make(i))
          await store.accept(d)
          made.push(d)
        }
        return made
      }

      it('lists events newest first and filters them by flow, status and test marker', async () => {
        const now = Date.now()
        const [a, b, c] = await acceptMany(3, (i) => ({
          receivedAt: iso(now - (3 - i) * 1000),
          flowId: i === 1 ? 'invoices' : 'orders',
          test: i === 2,
          work: i === 0 ? [workStart('map')] : [],
        }))
        const refused = rejection({ receivedAt: iso(now) })
        await store.recordRejection(refused)
        const ids = async (filter: Parameters<Store['listEvents']>[0]) =>
          (await store.listEvents(filter)).items.map((e) => e.id)
        expect(await ids({})).toEqual([refused.eventId, c?.eventId, b?.eventId, a?.eventId])
        expect(await ids({ flow: 'orders' })).toEqual([refused.eventId, c?.eventId, a?.eventId])
        expect(await ids({ status: 'accepted' })).toEqual([a?.eventId])
        expect(await ids({ status: 'rejected' })).toEqual([refused.eventId])
        expect(await ids({ test: true })).toEqual([c?.eventId])
        expect(await ids({ test: false, flow: 'orders', status: 'completed' })).toEqual([])
        expect((await store.listEvents({})).nextCursor).toBeNull()
      })

      it('pages through events with a cursor, returning each exactly once, ties on time included', async () => {
        const now = Date.now()
        // Groups of three events share one receivedAt: only the id orders them.
        const made = await acceptMany(23, (i) => ({ receivedAt: iso(now - Math.floor(i / 3) * 1000) }))
        const seen: string[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listEvents({ limit: 5, ...(cursor === undefined ? {} : { cursor }) })
          expect(page.items.length).toBeLessThanOrEqual(5)
          seen.push(...page.items.map((e) => e.id))
          cursor = page.nextCursor ?? undefined
          pages += 1
        } while (cursor !== undefined && pages < 20)
        expect(pages).toBe(5)
        expect(seen).toHaveLength(23)
        expect(new Set(seen)).toEqual(new Set(made.map((d) => d.eventId)))
        const times = (await store.listEvents({ limit: 100 })).items.map((e) => e.id)
        expect(seen).toEqual(times)
      })

      it('pages within a filter and ends with a null cursor', async () => {
        const now = Date.now()
        await acceptMany(7, (i) => ({ receivedAt: iso(now - i * 1000), flowId: i % 2 === 0 ? 'orders' : 'invoices' }))
        const first = await store.listEvents({ flow: 'orders', limit: 3 })
        expect(first.items).toHaveLength(3)
        expect(first.nextCursor).not.toBeNull()
        const second = await store.listEvents({ flow: 'orders', limit: 3, cursor: first.nextCursor ?? '' })
        expect(second.items).toHaveLength(1)
        expect(second.nextCursor).toBeNull()
        expect([...first.items, ...second.items].every((e) => e.flowId === 'orders')).toBe(true)
      })

      it('returns 50 events per page by default and at most 500', async () => {
        await acceptMany(55, () => ({}))
        expect((await store.listEvents({})).items).toHaveLength(50)
        expect((await store.listEvents({ limit: 10_000 })).items).toHaveLength(55)
      })

      it('rejects a cursor it did not make', async () => {
        await expect(store.listEvents({ cursor: 'not a cursor' })).rejects.toThrow()
      })

      it('orders events of one time by their ids compared byte by byte, and pages them in that order', async () => {
        const receivedAt = iso(Date.now())
        const ids = ['evt_a', 'evt_B', 'evt__', 'evt_Z', 'evt_b', 'evt_0', 'evt_~']
        for (const eventId of ids) await store.accept(delivery({ eventId, receivedAt }))
        const newestFirst = [...ids].sort().reverse()
        expect((await store.listEvents({})).items.map((e) => e.id)).toEqual(newestFirst)
        const seen: string[] = []
        let cursor: string | undefined
        do {
          const page = await store.listEvents({ limit: 2, ...(cursor === undefined ? {} : { cursor }) })
          seen.push(...page.items.map((e) => e.id))
          cursor = page.nextCursor ?? undefined
        } while (cursor !== undefined && seen.length < 20)
        expect(seen).toEqual(newestFirst)
      })

      it('lists dead letters newest first, by flow, with paging', async () => {
        const now = Date.now()
        for (let i = 0; i < 5; i++) {
          await store.accept(
            delivery({
              receivedAt: iso(now - i * 1000),
              flowId: i < 3 ? 'orders' : 'invoices',
              deadLetters: [deadLetter(`n${i}`)],
            }),
          )
        }
        const all = await store.listDeadLetters({})
        expect(all.items).toHaveLength(5)
        expect(all.nextCursor).toBeNull()
        const orders = await store.listDeadLetters({ flow: 'orders', limit: 2 })
        expect(orders.items).toHaveLength(2)
        const rest = await store.listDeadLetters({ flow: 'orders', limit: 2, cursor: orders.nextCursor ?? '' })
        expect(rest.items).toHaveLength(1)
        expect(rest.nextCursor).toBeNull()
        const nodes = [...orders.items, ...rest.items].map((d) => d.node)
        expect(new Set(nodes)).toEqual(new Set(['n0', 'n1', 'n2']))
        expect(await store.listDeadLetters({ flow: 'nothing' })).toEqual({ items: [], nextCursor: null })
      })

      it('lists events received within since (inclusive) and until (exclusive), pages included', async () => {
        const now = Date.now()
        const made = await acceptMany(6, (i) => ({ receivedAt: iso(now - (6 - i) * 1000) }))
        const ids = (items: Array<{ id: string }>) => items.map((e) => e.id)
        const [e0, e1, e2, e3, e4, e5] = made.map((d) => d.eventId)
        const since = iso(now - 4000) // e2's time
        const until = iso(now - 1000) // e5's time
        expect(ids((await store.listEvents({ since })).items)).toEqual([e5, e4, e3, e2])
        expect(ids((await store.listEvents({ until })).items)).toEqual([e4, e3, e2, e1, e0])
        expect(ids((await store.listEvents({ since, until })).items)).toEqual([e4, e3, e2])
        const first = await store.listEvents({ since, until, limit: 2 })
        const second = await store.listEvents({ since, until, limit: 2, cursor: first.nextCursor ?? '' })
        expect([...ids(first.items), ...ids(second.items)]).toEqual([e4, e3, e2])
        expect(second.nextCursor).toBeNull()
        expect((await store.listEvents({ since: iso(now) })).items).toEqual([])
        await expect(store.listEvents({ since: 'yesterday-ish' })).rejects.toThrow()
      })

      it('lists only the dead letters asked for by id, open ones unless replayed ones are asked for', async () => {
        const made = []
        for (let i = 0; i < 4; i++) {
          const dead = delivery({ receivedAt: iso(Date.now() - i * 1000), deadLetters: [deadLetter(`n${i}`)] })
          await store.accept(dead)
          made.push(dead)
        }
        const all = (await store.listDeadLetters({})).items
        expect(all.map((d) => d.node)).toEqual(['n0', 'n1', 'n2', 'n3'])
        const wanted = [all[1]?.id ?? '', all[3]?.id ?? '', 'dl_unknown']
        const some = await store.listDeadLetters({ ids: wanted })
        expect(some.items.map((d) => d.node)).toEqual(['n1', 'n3'])
        expect((await store.listDeadLetters({ ids: wanted, flow: 'invoices' })).items).toEqual([])
        expect((await store.listDeadLetters({ ids: [] })).items).toEqual([])

        const replayed = made[1] as AcceptedDelivery
        await store.replayEvent(replayRun(replayed.eventId))
        expect((await store.listDeadLetters({})).items.map((d) => d.node)).toEqual(['n0', 'n2', 'n3'])
        expect((await store.listDeadLetters({ ids: wanted })).items.map((d) => d.node)).toEqual(['n3'])
        const withReplayed = await store.listDeadLetters({ ids: wanted, includeReplayed: true })
        expect(withReplayed.items.map((d) => [d.node, d.replayedAt !== null])).toEqual([
          ['n1', true],
          ['n3', false],
        ])
        expect((await store.listDeadLetters({ includeReplayed: true })).items).toHaveLength(4)
      })
    })

    describe('retention', () => {
      it("removes the raw bodies of one flow's events received before a time, and nothing else", async () => {
        const now = Date.now()
        const old = delivery({ receivedAt: iso(now - 8 * DAY) })
        const recent = delivery({ receivedAt: iso(now - DAY) })
        const otherFlow = delivery({ receivedAt: iso(now - 8 * DAY), flowId: 'invoices' })
        for (const d of [old, recent, otherFlow]) await store.accept(d)
        expect(await store.purgeRawPayloads('orders', new Date(now - 7 * DAY))).toBe(1)
        expect(await store.purgeRawPayloads('orders', new Date(now - 7 * DAY))).toBe(0)
        expect(await store.getEvent(old.eventId)).toMatchObject({ rawBody: null, status: 'completed' })
        expect((await store.getEvent(old.eventId))?.steps).toHaveLength(2)
        expect((await store.getEvent(recent.eventId))?.rawBody).toBe(recent.rawBody)
        expect((await store.getEvent(otherFlow.eventId))?.rawBody).toBe(otherFlow.rawBody)
      })

      it('removes expired dedupe claims and keeps live ones', async () => {
        const now = Date.now()
        await store.accept(delivery({ receivedAt: iso(now - 2 * DAY), claims: [claim('gone', now - DAY)] }))
        const live = delivery({ claims: [claim('live', now + DAY)] })
        await store.accept(live)
        expect(await store.purgeExpiredClaims(new Date(now))).toBe(1)
        expect(await store.purgeExpiredClaims(new Date(now))).toBe(0)
        expect(await store.findClaim('orders/dedupe', 'live', new Date(now))).toBe(live.eventId)
      })
    })

    describe('tokens', () => {
      const hashOf = (token: string) => createHash('sha256').update(token).digest('hex')

      it('creates a token and finds the live token by its hash, never showing the hash', async () => {
        const hash = hashOf('mst_secret_1')
        const created = await store.createToken({ id: 'tok_1', name: 'ci', role: 'operator', hash, createdBy: 'admin' })
        expect(created).toEqual({
          id: 'tok_1',
          name: 'ci',
          role: 'operator',
          createdAt: expect.any(String),
          createdBy: 'admin',
          revokedAt: null,
          lastUsedAt: null,
        })
        expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false)
        const found = await store.findToken(hash)
        expect(found).toMatchObject({ id: 'tok_1', name: 'ci', role: 'operator', revokedAt: null })
        expect(found).not.toHaveProperty('hash')
        expect(JSON.stringify(found)).not.toContain(hash)
        expect(await store.findToken(hashOf('mst_other'))).toBeUndefined()
      })

      it('lists every token, revoked ones included, without hashes; names may repeat, hashes may not', async () => {
        await store.createToken({ id: 'tok_a', name: 'deploy', role: 'admin', hash: hashOf('a'), createdBy: null })
        await store.createToken({ id: 'tok_b', name: 'deploy', role: 'viewer', hash: hashOf('b'), createdBy: 'tok_a' })
        await expect(
          store.createToken({ id: 'tok_c', name: 'other', role: 'viewer', hash: hashOf('a'), createdBy: null }),
        ).rejects.toThrow()
        await expect(
          store.createToken({ id: 'tok_a', name: 'again', role: 'viewer', hash: hashOf('c'), createdBy: null }),
        ).rejects.toThrow()
        await store.revokeToken('tok_b')
        const tokens = await store.listTokens()
        expect(tokens.map((t) => [t.id, t.name, t.role, t.revokedAt !== null]).sort()).toEqual([
          ['tok_a', 'deploy', 'admin', false],
          ['tok_b', 'deploy', 'viewer', true],
        ])
        for (const token of tokens) {
          expect(token).not.toHaveProperty('hash')
          expect(JSON.stringify(token)).not.toContain(hashOf('a'))
        }
      })

      it('finds no token once it is revoked; revoking says whether a live token was revoked', async () => {
        const hash = hashOf('mst_revoked')
        await store.createToken({ id: 'tok_r', name: 'old', role: 'editor', hash, createdBy: null })
        expect(await store.findToken(hash)).toBeDefined()
        expect(await store.revokeToken('tok_r')).toBe(true)
        expect(await store.findToken(hash)).toBeUndefined()
        expect(await store.revokeToken('tok_r')).toBe(false)
        expect(await store.revokeToken('tok_unknown')).toBe(false)
        const [listed] = await store.listTokens()
        expect(Number.isNaN(Date.parse(listed?.revokedAt ?? ''))).toBe(false)
      })

      it('marks a token used when it is found', async () => {
        const hash = hashOf('mst_used')
        await store.createToken({ id: 'tok_u', name: 'used', role: 'viewer', hash, createdBy: null })
        const before = Date.now()
        const found = await store.findToken(hash)
        expect(Date.parse(found?.lastUsedAt ?? '')).toBeGreaterThanOrEqual(before)
        // The use may be recorded after the answer (it must not cost the request a write).
        await expect.poll(async () => (await store.listTokens())[0]?.lastUsedAt ?? null).not.toBeNull()
        expect(await store.findToken(hash)).toMatchObject({ lastUsedAt: expect.any(String) })
      })
    })

    describe('secrets', () => {
      const SEC = 1000
      const put = (name: string, value: string, overlapSec = 0, by: string | null = 'ops') =>
        store.putSecret({ name, ciphertext: `enc(${value})`, fingerprint: `fp(${value})`, overlapSec, by })
      const values = async (name: string, now = new Date()) =>
        (await store.secretValues(name, now)).map((v) => [v.fingerprint, v.validUntil === null])

      it('keeps a first value as the current one, encrypted as it arrived', async () => {
        const summary = await put('CRM_API_KEY', 'v1', 3600)
        expect(summary).toEqual({
          name: 'CRM_API_KEY',
          fingerprint: 'fp(v1)',
          updatedAt: expect.any(String),
          updatedBy: 'ops',
          previous: null,
        })
        const [current, ...rest] = await store.secretValues('CRM_API_KEY', new Date())
        expect(rest).toEqual([])
        expect(current).toEqual({
          ciphertext: 'enc(v1)',
          fingerprint: 'fp(v1)',
          setAt: summary.updatedAt,
          validUntil: null,
        })
        expect(await store.secretValues('NOTHING', new Date())).toEqual([])
        expect(await store.listSecrets(new Date())).toEqual([summary])
      })

      it('keeps the replaced value valid for the overlap, then only the current one', async () => {
        await put('CRM_API_KEY', 'v1')
        const rotated = await put('CRM_API_KEY', 'v2', 3600, 'ana')
        const setAt = Date.parse(rotated.updatedAt)
        expect(rotated).toMatchObject({ fingerprint: 'fp(v2)', updatedBy: 'ana', previous: { fingerprint: 'fp(v1)' } })
        const validUntil = Date.parse(rotated.previous?.validUntil ?? '')
        expect(validUntil).toBe(setAt + 3600 * SEC)

        expect(await values('CRM_API_KEY')).toEqual([
          ['fp(v2)', true],
          ['fp(v1)', false],
        ])
        const [, previous] = await store.secretValues('CRM_API_KEY', new Date())
        expect(previous).toMatchObject({ ciphertext: 'enc(v1)', validUntil: iso(validUntil) })
        expect(await values('CRM_API_KEY', new Date(validUntil - 1))).toHaveLength(2)
        expect(await values('CRM_API_KEY', new Date(validUntil))).toEqual([['fp(v2)', true]])

        const listed = await store.listSecrets(new Date())
        expect(listed).toEqual([rotated])
        const expired = await store.listSecrets(new Date(validUntil + 1))
        expect(expired).toEqual([{ ...rotated, previous: null }])
      })

      it('invalidates the replaced value at once when the overlap is 0', async () => {
        await put('HOOK_SECRET', 'v1', 3600)
        const rotated = await put('HOOK_SECRET', 'v2', 0)
        expect(rotated.previous).toBeNull()
        expect(await values('HOOK_SECRET')).toEqual([['fp(v2)', true]])
        expect((await store.listSecrets(new Date()))[0]?.previous).toBeNull()
      })

      it('leaves only the newest replaced value valid after two rotations in a row', async () => {
        await put('CRM_API_KEY', 'v1')
        await put('CRM_API_KEY', 'v2', 3600)
        const third = await put('CRM_API_KEY', 'v3', 600)
        expect(third.previous?.fingerprint).toBe('fp(v2)')
        expect(await values('CRM_API_KEY')).toEqual([
          ['fp(v3)', true],
          ['fp(v2)', false],
        ])
        // v1's own overlap would have lasted an hour: the second rotation ended it.
        const setAt = Date.parse(third.updatedAt)
        expect(await values('CRM_API_KEY', new Date(setAt + 601 * SEC))).toEqual([['fp(v3)', true]])
        await put('CRM_API_KEY', 'v4', 0)
        expect(await values('CRM_API_KEY')).toEqual([['fp(v4)', true]])
      })

      it('lists every secret by name with its current fingerprint, and keeps secrets apart', async () => {
        await put('B_KEY', 'b1')
        await put('A_KEY', 'a1')
        await put('A_KEY', 'a2', 60, null)
        const listed = await store.listSecrets(new Date())
        expect(listed.map((s) => [s.name, s.fingerprint, s.updatedBy, s.previous?.fingerprint ?? null])).toEqual([
          ['A_KEY', 'fp(a2)', null, 'fp(a1)'],
          ['B_KEY', 'fp(b1)', 'ops', null],
        ])
        expect(JSON.stringify(listed)).not.toContain('enc(')
        expect(await values('B_KEY')).toEqual([['fp(b1)', true]])
      })

      it('refuses a negative overlap', async () => {
        await expect(put('KEY', 'v1', -1)).rejects.toThrow()
        expect(await store.listSecrets(new Date())).toEqual([])
      })

      it('keeps one current value when two rotations of a secret arrive together', async () => {
        await put('CRM_API_KEY', 'v1')
        await Promise.all([put('CRM_API_KEY', 'v2', 3600), put('CRM_API_KEY', 'v3', 3600)])
        const current = (await store.secretValues('CRM_API_KEY', new Date())).filter((v) => v.validUntil === null)
        expect(current).toHaveLength(1)
        const listed = await store.listSecrets(new Date())
        expect(listed).toHaveLength(1)
        // The later rotation replaced the earlier one's value, which stays valid for the overlap.
        expect([listed[0]?.fingerprint, listed[0]?.previous?.fingerprint].sort()).toEqual(['fp(v2)', 'fp(v3)'])
      })
    })

    describe('audit', () => {
      it('appends an entry, at now by default, and returns it as it lists it', async () => {
        const before = Date.now()
        const entry = await store.appendAudit({
          actor: 'ana',
          action: 'flow.deploy',
          target: 'flow:orders@2',
          reason: 'hotfix',
          details: { from: 1, to: 2 },
        })
        expect(entry).toMatchObject({ actor: 'ana', action: 'flow.deploy', target: 'flow:orders@2', reason: 'hotfix' })
        expect(entry.details).toEqual({ from: 1, to: 2 })
        expect(typeof entry.id).toBe('string')
        expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before)
        const given = await store.appendAudit({
          at: iso(before - MINUTE),
          actor: 'cli',
          action: 'secret.put',
          target: 'secret:CRM_API_KEY',
          reason: null,
          details: null,
        })
        expect(given.at).toBe(iso(before - MINUTE))
        const listed = await store.listAudit({})
        expect(listed).toEqual({ items: [entry, given], nextCursor: null })
      })

      it('lists newest first and pages through every entry exactly once, equal times included', async () => {
        const now = Date.now()
        const made = []
        for (let i = 0; i < 23; i++) {
          made.push(
            await store.appendAudit({
              // Groups of three share one time: only the id orders them.
              at: iso(now - Math.floor(i / 3) * 1000),
              actor: 'ops',
              action: 'event.replay',
              target: `event:evt_${i}`,
              reason: `because ${i}`,
              details: { i },
            }),
          )
        }
        const seen: string[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listAudit({ limit: 5, ...(cursor === undefined ? {} : { cursor }) })
          expect(page.items.length).toBeLessThanOrEqual(5)
          seen.push(...page.items.map((e) => e.id))
          cursor = page.nextCursor ?? undefined
          pages += 1
        } while (cursor !== undefined && pages < 20)
        expect(pages).toBe(5)
        expect(seen).toHaveLength(23)
        expect(new Set(seen)).toEqual(new Set(made.map((e) => e.id)))
        const all = (await store.listAudit({ limit: 100 })).items
        expect(all.map((e) => e.id)).toEqual(seen)
        for (let i = 1; i < all.length; i++) {
          expect(Date.parse(all[i - 1]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(all[i]?.at ?? ''))
        }
        // Within one time, the later entry first.
        expect(all.slice(0, 3).map((e) => e.target)).toEqual(['event:evt_2', 'event:evt_1', 'event:evt_0'])
        await expect(store.listAudit({ cursor: 'not a cursor' })).rejects.toThrow()
      })
    })

    describe('replay', () => {
      it('moves a dead event back to accepted with its work queued and its dead letter marked replayed', async () => {
        const { delivery: accepted, item } = await acceptAndLease()
        await store.complete(
          item,
          outcome({ steps: [workStep('crm', { port: 'error' })], deadLetters: [deadLetter('crm')] }),
        )
        expect((await store.getEvent(accepted.eventId))?.status).toBe('dead')
        expect((await store.queueFigures(later())).deadLetters).toBe(1)
        const [open] = (await store.listDeadLetters({})).items
        expect(open?.eventId).toBe(accepted.eventId)

        const at = Date.now() + 2 * MINUTE
        const run = replayRun(accepted.eventId, {
          flowVersion: 2,
          at: iso(at),
          steps: [workStep('verify', { phase: 'guard', kind: 'verify', startedAt: iso(at) })],
          work: [workStart('crm', { total: 12.5 })],
          lineage: { map: { total: ['amount'] } },
        })
        expect(await store.replayEvent(run)).toEqual({ status: 'accepted' })

        const event = await store.getEvent(accepted.eventId)
        expect(event).toMatchObject({
          id: accepted.eventId,
          status: 'accepted',
          updatedAt: iso(at),
          pendingWork: 1,
          lineage: { map: { total: ['amount'] } },
        })
        expect(event?.steps.map((s) => s.node)).toEqual(['verify', 'dedupe', 'crm', 'verify'])
        expect(event?.deadLetters).toMatchObject([{ id: open?.id, replayedAt: iso(at) }])
        expect((await store.listDeadLetters({})).items).toEqual([])
        expect((await store.listDeadLetters({ includeReplayed: true })).items).toMatchObject([
          { id: open?.id, replayedAt: iso(at) },
        ])
        expect((await store.queueFigures(new Date(at))).deadLetters).toBe(0)

        // The work runs on the replay's version, from the replay's time, under the same event id.
        expect(await store.lease('worker-a', 10, 30_000, new Date(at - 1))).toEqual([])
        const [again] = await store.lease('worker-a', 10, 30_000, new Date(at))
        expect(again).toMatchObject({
          eventId: accepted.eventId,
          flowVersion: 2,
          node: 'crm',
          attempt: 1,
          runAt: iso(at),
        })
        expect(again?.message.payload).toEqual({ total: 12.5 })
        await store.complete(again as WorkItem, outcome({ steps: [workStep('crm', { kind: 'http' })] }))
        expect(await store.getEvent(accepted.eventId)).toMatchObject({ status: 'completed', pendingWork: 0 })
      })

      it('keeps a replay that dead-letters again dead, with a new open dead letter on the replayed version', async () => {
        const dead = delivery({ deadLetters: [deadLetter('branch', 'no case matched')] })
        await store.accept(dead)
        const at = Date.now() + MINUTE
        const run = replayRun(dead.eventId, { at: iso(at), deadLetters: [deadLetter('branch', 'still no case')] })
        expect(await store.replayEvent(run)).toEqual({ status: 'dead' })
        const letters = (await store.getEvent(dead.eventId))?.deadLetters ?? []
        expect(letters.map((d) => [d.error.message, d.flowVersion, d.replayedAt])).toEqual([
          ['no case matched', 1, iso(at)],
          ['still no case', 3, null],
        ])
        const open = (await store.listDeadLetters({})).items
        expect(open.map((d) => d.error.message)).toEqual(['still no case'])
        expect((await store.queueFigures(new Date(at))).deadLetters).toBe(1)
      })

      it('completes a replay that queued nothing, and replays a completed event too', async () => {
        const done = delivery()
        await store.accept(done)
        expect(await store.replayEvent(replayRun(done.eventId))).toEqual({ status: 'completed' })
        const event = await store.getEvent(done.eventId)
        expect(event).toMatchObject({ status: 'completed', pendingWork: 0, deadLetters: [] })
        expect(event?.steps).toHaveLength(3)
        expect(await store.replayEvent(replayRun(done.eventId, { work: [workStart('map')] }))).toEqual({
          status: 'accepted',
        })
        expect((await store.getEvent(done.eventId))?.pendingWork).toBe(1)
      })

      it('refuses to replay an event it does not have, or a rejected request, and changes nothing', async () => {
        await expect(store.replayEvent(replayRun('evt_nothing', { work: [workStart('map')] }))).rejects.toThrow()
        const refused = rejection()
        await store.recordRejection(refused)
        await expect(store.replayEvent(replayRun(refused.eventId, { work: [workStart('map')] }))).rejects.toThrow()
        expect(await store.getEvent(refused.eventId)).toMatchObject({ status: 'rejected', pendingWork: 0 })
        expect((await store.queueFigures(later())).pending).toBe(0)
      })
    })

    describe('canary deployments', () => {
      beforeEach(async () => {
        for (const version of [1, 2, 3]) await store.saveFlowVersion(flowDocument('orders', version), null)
      })

      it('deploys a canary beside the stable version, changes its share, and ends it on a plain deploy', async () => {
        await store.deployFlow('orders', 1)
        expect(await store.deployments()).toEqual(new Map([['orders', { version: 1, canary: null }]]))
        await store.deployFlow('orders', 1, { version: 2, percent: 30 })
        expect(await store.deployments()).toEqual(
          new Map([['orders', { version: 1, canary: { version: 2, percent: 30 } }]]),
        )
        // The stable version is what every existing reader sees.
        expect(await store.deployedFlows()).toEqual(new Map([['orders', 1]]))
        expect((await store.listFlows()).find((f) => f.id === 'orders')?.deployedVersion).toBe(1)
        await store.deployFlow('orders', 1, { version: 3, percent: 99 })
        expect((await store.deployments()).get('orders')).toEqual({ version: 1, canary: { version: 3, percent: 99 } })
        // Promote: the candidate becomes the stable version and the canary ends.
        await store.deployFlow('orders', 3)
        expect((await store.deployments()).get('orders')).toEqual({ version: 3, canary: null })
        expect(await store.deployedFlows()).toEqual(new Map([['orders', 3]]))
      })

      it('refuses a canary of an unsaved version, of the stable version itself, or of a share outside 1…99', async () => {
        await store.deployFlow('orders', 1, { version: 2, percent: 10 })
        const before = await store.deployments()
        await expect(store.deployFlow('orders', 1, { version: 9, percent: 10 })).rejects.toThrow()
        await expect(store.deployFlow('orders', 1, { version: 1, percent: 10 })).rejects.toThrow()
        await expect(store.deployFlow('orders', 1, { version: 2, percent: 0 })).rejects.toThrow()
        await expect(store.deployFlow('orders', 1, { version: 2, percent: 100 })).rejects.toThrow()
        await expect(store.deployFlow('orders', 1, { version: 2, percent: 12.5 })).rejects.toThrow()
        expect(await store.deployments()).toEqual(before)
      })

      it('keeps a canary across close and reopen', async () => {
        if (!opened.reopen) return
        await store.deployFlow('orders', 2, { version: 3, percent: 25 })
        await store.close()
        store = await opened.reopen()
        expect(await store.deployments()).toEqual(
          new Map([['orders', { version: 2, canary: { version: 3, percent: 25 } }]]),
        )
      })
    })

    describe('reconciliation', () => {
      const old = (minutes: number) => iso(Date.now() - minutes * MINUTE)
      const threshold = () => new Date(Date.now() - 15 * MINUTE)

      it('lists open events received before the threshold, newest first, by flow and page, and counts them per flow', async () => {
        const stuck = [40, 30, 20].map((age) => delivery({ receivedAt: old(age), work: [workStart('map')] }))
        for (const event of stuck) await store.accept(event)
        const invoice = delivery({ flowId: 'invoices', receivedAt: old(25), work: [workStart('map')] })
        await store.accept(invoice)
        const testMarked = delivery({ receivedAt: old(50), work: [workStart('map')], test: true })
        await store.accept(testMarked)
        // Not listed: too young, settled, or refused.
        await store.accept(delivery({ receivedAt: old(1), work: [workStart('map')] }))
        await store.accept(delivery({ receivedAt: old(60) }))
        await store.accept(delivery({ receivedAt: old(60), deadLetters: [deadLetter('branch')] }))
        await store.recordRejection(rejection({ receivedAt: old(60) }))

        const all = await store.listUnreconciled({ olderThan: threshold() })
        expect(all.items.map((e) => e.id)).toEqual([
          stuck[2]?.eventId,
          invoice.eventId,
          stuck[1]?.eventId,
          stuck[0]?.eventId,
          testMarked.eventId,
        ])
        expect(all.nextCursor).toBeNull()
        expect(all.items[0]).toMatchObject({
          flowId: 'orders',
          flowVersion: 1,
          status: 'accepted',
          receivedAt: stuck[2]?.receivedAt,
          test: false,
          state: 'due',
          lastStep: { node: 'dedupe', kind: 'dedupe', port: 'new', attempt: 1 },
        })
        expect(all.items[0]).not.toHaveProperty('rawBody')
        expect(all.items.at(-1)?.test).toBe(true)

        const orders = await store.listUnreconciled({ olderThan: threshold(), flow: 'orders', limit: 2 })
        expect(orders.items.map((e) => e.id)).toEqual([stuck[2]?.eventId, stuck[1]?.eventId])
        const rest = await store.listUnreconciled({
          olderThan: threshold(),
          flow: 'orders',
          limit: 2,
          cursor: orders.nextCursor ?? '',
        })
        expect(rest.items.map((e) => e.id)).toEqual([stuck[0]?.eventId, testMarked.eventId])
        expect(rest.nextCursor).toBeNull()

        // Test-marked events are kept apart from production figures.
        expect(await store.countUnreconciled(threshold())).toEqual(
          new Map([
            ['orders', 3],
            ['invoices', 1],
          ]),
        )
        expect(await store.countUnreconciled(new Date(Date.now() - 55 * MINUTE))).toEqual(new Map())
      })

      it('tells why each is stuck: leased, lease expired, due, retry scheduled, or no work at all', async () => {
        const now = Date.now()
        // Leases take the oldest due item first: lost, retrying, expired, leased; `due` is never leased.
        const [due, leased, expired, retrying, lost] = [1, 2, 3, 4, 5].map((i) =>
          delivery({ receivedAt: old(20 + i), work: [workStart('map')] }),
        )
        for (const event of [due, leased, expired, retrying, lost]) await store.accept(event as AcceptedDelivery)
        const [lostItem] = await store.lease('worker-gone', 1, 30_000, new Date(now))
        expect(lostItem?.eventId).toBe(lost?.eventId)
        await opened.loseWork(lost?.eventId ?? '')
        const [retryItem] = await store.lease('worker-a', 1, 30_000, new Date(now))
        expect(retryItem?.eventId).toBe(retrying?.eventId)
        await store.retry(retryItem as WorkItem, {
          steps: [workStep('map', { kind: 'http', port: 'error', error: { category: 'retriable', message: '503' } })],
          at: iso(now + 10 * MINUTE),
          attempt: 2,
          error: { category: 'retriable', message: '503' },
        })
        const [expiredItem] = await store.lease('worker-crashed', 1, 1_000, new Date(now - 60_000))
        expect(expiredItem?.eventId).toBe(expired?.eventId)
        // Taken while the crashed worker's lease still ran, so it passes that item by.
        const [leasedItem] = await store.lease('worker-live', 1, 6 * MINUTE, new Date(now - 60_000))
        expect(leasedItem?.eventId).toBe(leased?.eventId)

        const { items } = await store.listUnreconciled({ olderThan: threshold(), now: new Date(now) })
        const byId = new Map(items.map((e) => [e.id, e]))
        expect(byId.get(leased?.eventId ?? '')).toMatchObject({
          status: 'processing',
          state: 'leased',
          work: [{ node: 'map', attempt: 1, leaseOwner: 'worker-live', flowVersion: 1 }],
        })
        expect(byId.get(expired?.eventId ?? '')).toMatchObject({
          state: 'lease_expired',
          work: [{ leaseOwner: 'worker-crashed', leaseExpiresAt: iso(now - 59_000) }],
        })
        expect(byId.get(due?.eventId ?? '')).toMatchObject({
          status: 'accepted',
          state: 'due',
          work: [{ leaseOwner: null, leaseExpiresAt: null }],
        })
        expect(byId.get(retrying?.eventId ?? '')).toMatchObject({
          state: 'retry_scheduled',
          work: [{ attempt: 2, runAt: iso(now + 10 * MINUTE), leaseOwner: null }],
          lastStep: { node: 'map', kind: 'http', port: 'error', error: { category: 'retriable', message: '503' } },
        })
        expect(byId.get(lost?.eventId ?? '')).toMatchObject({ status: 'processing', state: 'no_work', work: [] })
      })

      it('resumes an event with pending work by making it due now and giving up a lease still held', async () => {
        const stuck = delivery({ receivedAt: old(30), work: [workStart('map')] })
        await store.accept(stuck)
        const [held] = await store.lease('worker-hung', 1, 60 * MINUTE, new Date())
        expect(await store.lease('worker-b', 1, 30_000, later())).toEqual([])
        const at = iso(Date.now())
        expect(await store.resumeEvent(stuck.eventId, { at })).toEqual({
          outcome: 'due',
          status: 'processing',
          items: 1,
        })
        const [taken] = await store.lease('worker-b', 1, 30_000, new Date(Date.parse(at)))
        expect(taken).toMatchObject({ id: held?.id, eventId: stuck.eventId, attempt: 1, leaseOwner: 'worker-b' })
        // The hung worker's late answer is ignored; the new holder's counts.
        await store.complete(held as WorkItem, outcome({ steps: [workStep('map')] }))
        expect(await store.getEvent(stuck.eventId)).toMatchObject({ status: 'processing', pendingWork: 1 })
        await store.complete(taken as WorkItem, outcome({ steps: [workStep('map')] }))
        expect(await store.getEvent(stuck.eventId)).toMatchObject({ status: 'completed', pendingWork: 0 })
      })

      it('resumes an event whose work was lost by queueing the restart it is given, under the same event id', async () => {
        const stuck = delivery({ receivedAt: old(30), work: [workStart('map')] })
        await store.accept(stuck)
        await opened.loseWork(stuck.eventId)
        const at = iso(Date.now())
        expect(await store.resumeEvent(stuck.eventId, { at })).toEqual({ outcome: 'no_work', status: 'accepted' })
        expect(await store.getEvent(stuck.eventId)).toMatchObject({ status: 'accepted', pendingWork: 0 })
        const restart = { work: [workStart('map', { id: 'ord_1', total: 12.5 })], deadLetters: [], lineage: {} }
        expect(await store.resumeEvent(stuck.eventId, { at, restart })).toEqual({
          outcome: 'restarted',
          status: 'accepted',
          items: 1,
        })
        const [item] = await store.lease('worker-a', 1, 30_000, new Date(Date.parse(at)))
        expect(item).toMatchObject({ eventId: stuck.eventId, node: 'map', attempt: 1, flowVersion: 1 })
        expect(item?.message.payload).toEqual({ id: 'ord_1', total: 12.5 })
        // With work pending again, a second resume makes it due instead of queueing the restart twice.
        expect(await store.resumeEvent(stuck.eventId, { at, restart })).toMatchObject({ outcome: 'due', items: 1 })
        expect((await store.getEvent(stuck.eventId))?.pendingWork).toBe(1)
      })

      it('resumes nothing that is settled or unknown', async () => {
        const done = delivery()
        await store.accept(done)
        const at = iso(Date.now())
        const restart = { work: [workStart('map')], deadLetters: [], lineage: {} }
        expect(await store.resumeEvent(done.eventId, { at, restart })).toEqual({
          outcome: 'settled',
          status: 'completed',
        })
        expect(await store.resumeEvent('evt_nothing', { at, restart })).toEqual({ outcome: 'not_found' })
        const refused = rejection()
        await store.recordRejection(refused)
        expect(await store.resumeEvent(refused.eventId, { at, restart })).toEqual({
          outcome: 'settled',
          status: 'rejected',
        })
        expect((await store.queueFigures(later())).pending).toBe(0)
      })

      it('dead-letters an open event by an operator: its pending work becomes dead letters with the reason', async () => {
        const stuck = delivery({ receivedAt: old(30), work: [workStart('crm', { total: 1 }), workStart('audit')] })
        await store.accept(stuck)
        const [held] = await store.lease('worker-hung', 1, 60 * MINUTE, new Date())
        const at = iso(Date.now())
        const answer = await store.deadLetterEvent(stuck.eventId, { reason: 'CRM has it already', by: 'ops', at })
        expect(answer).toMatchObject({ outcome: 'dead', status: 'dead', removedWork: 2 })
        const event = await store.getEvent(stuck.eventId)
        expect(event).toMatchObject({ status: 'dead', pendingWork: 0 })
        expect(event?.deadLetters.map((d) => d.node).sort()).toEqual(['audit', 'crm'])
        expect(event?.deadLetters.map((d) => d.id).sort()).toEqual(
          answer.outcome === 'dead' ? [...answer.deadLetters].sort() : [],
        )
        for (const letter of event?.deadLetters ?? []) {
          expect(letter).toMatchObject({ flowId: 'orders', flowVersion: 1, createdAt: at, replayedAt: null })
          expect(letter.error).toEqual({
            category: OPERATOR_CATEGORY,
            message: 'CRM has it already',
            details: { by: 'ops', action: 'dead-letter' },
          })
        }
        expect(event?.deadLetters.find((d) => d.node === 'crm')?.message.payload).toEqual({ total: 1 })
        const listed = await store.listDeadLetters({ flow: 'orders' })
        expect(listed.items.map((d) => d.eventId)).toEqual([stuck.eventId, stuck.eventId])
        // The hung worker's late answer changes nothing.
        await store.complete(held as WorkItem, outcome({ steps: [workStep(held?.node ?? '')] }))
        expect(await store.getEvent(stuck.eventId)).toMatchObject({ status: 'dead', pendingWork: 0 })
        expect((await store.queueFigures(later())).pending).toBe(0)
        expect(await store.listUnreconciled({ olderThan: new Date() })).toEqual({ items: [], nextCursor: null })
        // It can be replayed from there like any dead letter.
        expect(await store.replayEvent(replayRun(stuck.eventId, { work: [workStart('crm')] }))).toEqual({
          status: 'accepted',
        })
        expect((await store.listDeadLetters({ flow: 'orders' })).items).toEqual([])
      })

      it('dead-letters an open event with no work under its last step, keeping its payload', async () => {
        const stuck = delivery({ receivedAt: old(30), work: [workStart('map')] })
        await store.accept(stuck)
        await opened.loseWork(stuck.eventId)
        const at = iso(Date.now())
        expect(await store.deadLetterEvent(stuck.eventId, { reason: 'lost', by: 'ops', at })).toMatchObject({
          outcome: 'dead',
          removedWork: 0,
          deadLetters: [expect.any(String)],
        })
        const event = await store.getEvent(stuck.eventId)
        expect(event?.status).toBe('dead')
        expect(event?.deadLetters).toMatchObject([
          { node: 'dedupe', flowVersion: 1, message: { payload: JSON.parse(stuck.rawBody) } },
        ])
        expect(await store.deadLetterEvent(stuck.eventId, { reason: 'again', by: 'ops', at })).toEqual({
          outcome: 'settled',
          status: 'dead',
        })
        expect(await store.deadLetterEvent('evt_nothing', { reason: 'x', by: 'ops', at })).toEqual({
          outcome: 'not_found',
        })
        expect((await store.getEvent(stuck.eventId))?.deadLetters).toHaveLength(1)
      })
    })

    describe('durability', () => {
      it('keeps flows, events, claims and queued work across close and reopen', async () => {
        if (!opened.reopen) return
        await store.saveFlowVersion(flowDocument('orders', 1), 'ana')
        await store.deployFlow('orders', 1)
        const accepted = delivery({ claims: [claim('ord_1', Date.now() + DAY)], work: [workStart('map')] })
        await store.accept(accepted)
        const refused = rejection()
        await store.recordRejection(refused)
        await store.close()

        store = await opened.reopen()
        expect((await store.latestFlowVersion('orders'))?.version).toBe(1)
        expect(await store.deployedFlows()).toEqual(new Map([['orders', 1]]))
        expect(await store.getEvent(accepted.eventId)).toMatchObject({ rawBody: accepted.rawBody, pendingWork: 1 })
        expect((await store.getEvent(refused.eventId))?.status).toBe('rejected')
        expect(await store.findClaim('orders/dedupe', 'ord_1', new Date())).toBe(accepted.eventId)
        const [item] = await store.lease('worker-a', 1, 30_000, later())
        expect(item?.eventId).toBe(accepted.eventId)
      })

      it('answers every write made before close', async () => {
        const deliveries = Array.from({ length: 20 }, () => delivery({ work: [workStart('map')] }))
        const writes = deliveries.map((d) => store.accept(d))
        const closed = store.close()
        expect((await Promise.all(writes)).every((r) => r.status === 'accepted')).toBe(true)
        await closed
        if (!opened.reopen) return
        store = await opened.reopen()
        expect((await store.queueFigures(later())).pending).toBe(20)
      })
    })
  })
}
