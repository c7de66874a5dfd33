/** @module `mapper send`: which delivery sends which event — fresh, a duplicate of an earlier one, or tampered. */
import { randomInt, randomUUID } from 'node:crypto'
import { type Payload, withFreshId } from './send-payloads.ts'

export interface PlannedDelivery {
  index: number
  payload: Payload
  /** The Standard Webhooks message id: one per event, the same on its re-sends. */
  messageId: string
  /** Index of the earlier delivery whose event this one re-sends, byte-identical. */
  duplicateOf?: number
  /** The body is altered after signing. */
  tampered: boolean
}

export interface PlanOptions {
  count: number
  unique: boolean
  /** Share of deliveries that re-send an earlier event. */
  duplicates: number
  /** Share of deliveries altered after signing. */
  tamper: number
}

/** `k` distinct numbers drawn from `candidates`. */
function sample(candidates: number[], k: number): Set<number> {
  const pool = [...candidates]
  for (let i = pool.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[pool[i], pool[j]] = [pool[j] as number, pool[i] as number]
  }
  return new Set(pool.slice(0, Math.max(0, Math.min(k, pool.length))))
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
}

/**
 * Exactly round(count × share) duplicates and tampered deliveries at random positions. A duplicate
 * re-sends an earlier fresh, untampered event; tampered deliveries are never duplicates, so each
 * answer has one reason.
 */
export function planDeliveries(payloads: readonly Payload[], options: PlanOptions): PlannedDelivery[] {
  if (payloads.length === 0) throw new Error('no payloads to send')
  const { count } = options
  const duplicatePositions = sample(range(1, count), Math.round(count * options.duplicates))
  const freshPositions = range(0, count).filter((i) => !duplicatePositions.has(i))
  const tamperPositions = sample(freshPositions, Math.round(count * options.tamper))
  const plan: PlannedDelivery[] = []
  const originals: number[] = []
  let fresh = 0
  for (let index = 0; index < count; index++) {
    if (duplicatePositions.has(index) && originals.length > 0) {
      const original = plan[originals[randomInt(originals.length)] as number] as PlannedDelivery
      plan.push({
        index,
        payload: original.payload,
        messageId: original.messageId,
        duplicateOf: original.index,
        tampered: false,
      })
      continue
    }
    const base = payloads[fresh % payloads.length] as Payload
    const payload = options.unique ? withFreshId(base) : base
    fresh++
    const tampered = tamperPositions.has(index)
    plan.push({ index, payload, messageId: `msg_${randomUUID().replaceAll('-', '')}`, tampered })
    if (!tampered) originals.push(index)
  }
  return plan
}

/** The body after signing, changed but still JSON: an extra field before the final brace, else a trailing space. */
export function tamperBody(body: string): string {
  const end = body.lastIndexOf('}')
  if (end < 0) return `${body} `
  const before = body.slice(0, end).trimEnd()
  const comma = before.endsWith('{') ? '' : ','
  return `${before}${comma} "tampered": true${body.slice(end)}`
}
