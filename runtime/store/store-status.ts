/** @module How an event's status follows from what the store holds for it: the same rules in every store. */
import type { AcceptedDelivery, EventStatus } from './store.ts'

/** The status an accepted delivery starts with. */
export function acceptedStatus(delivery: Pick<AcceptedDelivery, 'duplicateOf' | 'work' | 'deadLetters'>): EventStatus {
  if (delivery.duplicateOf !== undefined) return 'duplicate'
  if (delivery.deadLetters.length > 0 && delivery.work.length === 0) return 'dead'
  if (delivery.work.length > 0) return 'accepted'
  return 'completed'
}

/**
 * The status after a work item finished: an open dead letter makes the event dead, remaining work keeps it
 * processing, nothing left completes it. A duplicate stays a duplicate (its sender was told so), whatever
 * its duplicate path ran.
 */
export function settledStatus(current: EventStatus, openDeadLetters: number, pendingWork: number): EventStatus {
  if (current === 'duplicate' || current === 'rejected') return current
  if (openDeadLetters > 0) return 'dead'
  return pendingWork > 0 ? 'processing' : 'completed'
}

/**
 * The status after a replay, from what the event holds once the replay is in (its open dead letters are
 * the replay's own, its pending work includes the replay's): as `accept` decides it, dead when only dead
 * letters came of it, accepted while work waits, completed otherwise. A duplicate stays a duplicate.
 */
export function replayedStatus(current: EventStatus, openDeadLetters: number, pendingWork: number): EventStatus {
  if (current === 'duplicate' || current === 'rejected') return current
  if (pendingWork > 0) return 'accepted'
  return openDeadLetters > 0 ? 'dead' : 'completed'
}
