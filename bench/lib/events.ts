/** @module Signed conduit deliveries for the benches: prepared up front, or fresh per request. */
import { randomBytes } from 'node:crypto'
import { generatePayloads } from '../../runtime/cli/send-payloads.ts'
import { signDelivery } from '../../runtime/signatures/index.ts'

export const CONDUIT_SECRET_ENV = 'CONDUIT_WEBHOOK_SECRET'
export const CONDUIT_HEADER = 'conduit-signature'
export const CONDUIT_PATH = '/hooks/conduit/reports'

export interface SignedEvent {
  body: string
  headers: Record<string, string>
}

/** The secret the benches sign with: the environment's when set, else a fixed bench secret. */
export function benchSecret(): string {
  return process.env[CONDUIT_SECRET_ENV] ?? 'whsec_mapper_bench_secret'
}

export function signConduit(secret: string, body: string): SignedEvent {
  const signature = signDelivery('stripe', secret, body, { header: CONDUIT_HEADER, timestampSec: Date.now() / 1000 })
  return { body, headers: { 'content-type': 'application/json', ...signature } }
}

/** `count` distinct conduit events (the four types cycling), each signed now: re-prepare before every run. */
export function prepareConduitEvents(secret: string, count: number): SignedEvent[] {
  return generatePayloads('conduit', count).map((payload) => signConduit(secret, payload.body))
}

/** A new distinct event, signed now, from one of the prepared ones (its id replaced). */
export function freshFrom(secret: string, template: SignedEvent): SignedEvent {
  const body = template.body.replace(/"id": "evt_[0-9a-f]+"/, `"id": "evt_${randomBytes(12).toString('hex')}"`)
  return signConduit(secret, body)
}

/** Before measuring: a good delivery must be answered 2xx and a tampered one 401, so every target really verifies. */
/** Returns the good delivery's status. */
export async function checkVerifies(url: string, secret: string): Promise<number> {
  const [good] = prepareConduitEvents(secret, 1) as [SignedEvent]
  const ok = await fetch(url, { method: 'POST', headers: good.headers, body: good.body })
  await ok.arrayBuffer()
  const forged = signConduit(secret, good.body.replace('"evt_', '"evt_x'))
  const bad = await fetch(url, { method: 'POST', headers: forged.headers, body: good.body })
  await bad.arrayBuffer()
  if (ok.status < 200 || ok.status >= 300 || bad.status !== 401) {
    throw new Error(`${url} does not verify as expected: good delivery → ${ok.status}, forged → ${bad.status}`)
  }
  return ok.status
}
