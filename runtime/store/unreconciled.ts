/** @module What every store derives the same way for reconciliation: why an open event is stuck, its operator dead letter. */
import type { Step } from '../engine/types.ts'
import type { DeadLetterError, PendingWork, UnreconciledEvent, UnreconciledState } from './store.ts'
import { OPERATOR_CATEGORY } from './store.ts'

/** An open event's own columns, as both stores read them for the list. */
export type OpenEventFields = Omit<UnreconciledEvent, 'state' | 'work' | 'lastStep'>

/** One item of the list: the event, its pending work (due first), its last step, and why it is stuck. */
export function unreconciledEvent(
  event: OpenEventFields,
  work: PendingWork[],
  lastStep: Step | undefined,
  now: number,
): UnreconciledEvent {
  return {
    ...event,
    state: unreconciledState(work, now),
    work,
    lastStep: lastStep
      ? {
          node: lastStep.node,
          kind: lastStep.kind,
          port: lastStep.port,
          attempt: lastStep.attempt,
          startedAt: lastStep.startedAt,
          ...(lastStep.error === undefined ? {} : { error: lastStep.error }),
        }
      : null,
  }
}

/** Why an open event has not settled, from its pending work at `now` (a held lease says the most). */
export function unreconciledState(work: readonly PendingWork[], now: number): UnreconciledState {
  if (work.length === 0) return 'no_work'
  const held = (item: PendingWork) => item.leaseOwner !== null && item.leaseExpiresAt !== null
  if (work.some((item) => held(item) && Date.parse(item.leaseExpiresAt as string) > now)) return 'leased'
  if (work.some(held)) return 'lease_expired'
  if (work.some((item) => Date.parse(item.runAt) <= now)) return 'due'
  return 'retry_scheduled'
}

/** The error an operator's dead letter carries: the reason as its message, who in its details. */
export function operatorError(reason: string, by: string): DeadLetterError {
  return { category: OPERATOR_CATEGORY, message: reason, details: { by, action: 'dead-letter' } }
}

/** What an operator's dead letter of an event with no pending work carries: the event's payload, when it parses. */
export function payloadOf(rawBody: string | null): unknown {
  if (rawBody === null) return null
  try {
    return JSON.parse(rawBody) as unknown
  } catch {
    return null
  }
}
