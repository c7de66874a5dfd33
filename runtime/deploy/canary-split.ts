/**
 * @module Which version a new event goes to while a canary runs: a hash of what identifies the event to its
 * sender, into one of 100 buckets; buckets below the canary's percent go to the candidate.
 *
 * The key is the one a redelivery of the same event repeats, so a redelivery lands on the version the first
 * delivery took (and meets its dedupe claim there): the key the stable version's first dedupe node computes,
 * else the Standard Webhooks `webhook-id` header, else the raw body (a sender redelivers the same bytes;
 * only the signature header changes). The hash includes the flow id and no process state, so every process
 * on a shared store splits alike; raising the percent only moves buckets from stable to candidate.
 */
import { createHash } from 'node:crypto'
import type { CompiledFlow } from '../engine/compile.ts'

export const CANARY_BUCKETS = 100

/** Standard Webhooks' delivery id: the same on every retry of one message. */
const DELIVERY_ID_HEADER = 'webhook-id'

/** The bucket (0…99) of an event's key for a flow. */
export function canaryBucket(flowId: string, key: string): number {
  const digest = createHash('sha256').update(flowId).update('\u0000').update(key).digest()
  return digest.readUInt32BE(0) % CANARY_BUCKETS
}

/** What identifies a delivery's event across redeliveries (see the module comment). */
export async function splitKey(
  stable: CompiledFlow,
  headers: Record<string, string>,
  rawBody: string,
): Promise<string> {
  const dedupe = firstGuardDedupe(stable)
  if (dedupe !== undefined) {
    const value = await dedupeKey(stable, dedupe, headers, rawBody)
    if (value !== undefined) return `dedupe:${value}`
  }
  const deliveryId = headers[DELIVERY_ID_HEADER]
  if (deliveryId) return `${DELIVERY_ID_HEADER}:${deliveryId}`
  return `body:${rawBody}`
}

/** The key expression of the first dedupe node the guard phase reaches, if any. */
function firstGuardDedupe(flow: CompiledFlow): string | undefined {
  const seen = new Set<string>()
  const queue = [flow.entry]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue
    seen.add(id)
    const node = flow.nodes.get(id)
    if (node?.kind.phase !== 'guard') continue
    if (node.kind.kind === 'dedupe') return (node.node.config as { key?: unknown }).key as string | undefined
    for (const port of Object.keys(node.ports)) queue.push(...flow.next(id, port))
  }
  return undefined
}

/** The dedupe key as the node computes it (guard nodes hand the payload on unchanged); undefined when none. */
async function dedupeKey(
  flow: CompiledFlow,
  expression: string,
  headers: Record<string, string>,
  rawBody: string,
): Promise<string | undefined> {
  let payload: unknown
  try {
    payload = JSON.parse(rawBody)
  } catch {
    return undefined
  }
  try {
    const value = await flow.expression(expression).evaluate(payload, { headers })
    if (value === undefined || value === null || value === '') return undefined
    return typeof value === 'string' ? value : JSON.stringify(value)
  } catch {
    return undefined
  }
}
