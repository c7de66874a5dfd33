/**
 * A work item that fails outside any node (here: it names a flow version the store does not have) is tried
 * again after each lease, and after a few failures becomes a dead letter instead of holding its event in
 * `processing` forever.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_UNEXPECTED_FAILURES } from '../../runtime/worker/flow-worker.ts'
import { startTestRuntime, type TestRuntime, waitForEvent } from '../support/runtime-harness.ts'
import { delivery, workStart } from './store-contract.ts'

describe('a work item that keeps failing outside its nodes', () => {
  let rt: TestRuntime | undefined
  afterAll(async () => {
    await rt?.stop()
  })

  it('is dead-lettered after a few leases, with the cause, and can be found as a dead letter', async () => {
    rt = await startTestRuntime({ flows: ['conduit-reports'], runtime: { leaseMs: 200 } })
    const lost = delivery({
      flowId: 'conduit-reports',
      flowVersion: 99,
      path: 'conduit/reports',
      work: [workStart('map-report', { id: 'evt_poison' })],
    })
    expect((await rt.runtime.store.accept(lost)).status).toBe('accepted')
    await waitForEvent(rt, lost.eventId, ['dead'])

    const event = await rt.api(`/api/events/${lost.eventId}`)
    expect(event.status).toBe('dead')
    const [dead] = event.deadLetters
    expect(dead.node).toBe('map-report')
    expect(dead.error.category).toBe('non_retriable')
    expect(dead.error.message).toContain(`${MAX_UNEXPECTED_FAILURES} times`)
    expect(dead.error.message).toContain('has no version 99')
    const queue = await rt.runtime.store.queueFigures(new Date())
    expect(queue.pending).toBe(0)
  }, 30_000)
})
