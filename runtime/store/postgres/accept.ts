/**
 * @module Ingest: an accepted delivery whole in one transaction (event, steps, claims, work), and a rejection.
 *
 * Claims decide first. Each is an INSERT … ON CONFLICT DO UPDATE that takes the key only when the claim
 * there has expired (or is this event's own), so of many processes accepting one key at once exactly one
 * takes it: the others wait on the key's row, then find it held. A delivery that finds a key held by
 * another event is kept as that event's duplicate, and none of its claims, work or dead letters are kept.
 */
import type pg from 'pg'
import type { DedupeClaim } from '../../engine/types.ts'
import type { AcceptedDelivery, AcceptResult, EventStatus, RejectedDelivery } from '../store.ts'
import { acceptedStatus } from '../store-status.ts'
import { addDeadLetters, appendSteps, mergeLineage, queueWork } from './event-writes.ts'
import type { WorkNews } from './news.ts'
import { toBytes, toDate } from './rows.ts'

export async function accept(
  client: pg.PoolClient,
  delivery: AcceptedDelivery,
  workNews: WorkNews,
): Promise<AcceptResult> {
  // The delivery's own clock decides which claims have expired and when its work is due, so a store
  // under an engine with a fixed clock behaves as it would in real time.
  const receivedAt = toDate(delivery.receivedAt)
  const holder = await takeClaims(client, delivery.claims, delivery.eventId, receivedAt)
  const duplicateOf = delivery.duplicateOf ?? holder
  const status = holder === undefined ? acceptedStatus(delivery) : 'duplicate'
  await insertEvent(client, {
    id: delivery.eventId,
    requestId: delivery.requestId,
    flowId: delivery.flowId,
    flowVersion: delivery.flowVersion,
    path: delivery.path,
    status,
    receivedAt,
    headers: JSON.stringify(delivery.headers),
    rawBody: toBytes(delivery.rawBody),
    sizeBytes: Buffer.byteLength(delivery.rawBody, 'utf8'),
    duplicateOf: duplicateOf ?? null,
    test: delivery.test === true,
    rejection: null,
  })
  await appendSteps(client, delivery.eventId, delivery.steps, 0)
  await mergeLineage(client, delivery.eventId, delivery.lineage)
  if (holder === undefined) {
    const event = { id: delivery.eventId, flowId: delivery.flowId, flowVersion: delivery.flowVersion }
    await queueWork(client, event, delivery.work, receivedAt)
    await addDeadLetters(client, event, delivery.deadLetters, receivedAt)
    if (delivery.work.length > 0) await workNews.announce(client)
  }
  if (duplicateOf !== undefined) return { status: 'duplicate', eventId: delivery.eventId, duplicateOf }
  return { status: acceptedStatus(delivery) as 'accepted' | 'completed' | 'dead', eventId: delivery.eventId }
}

export async function recordRejection(client: pg.PoolClient, rejection: RejectedDelivery): Promise<void> {
  await insertEvent(client, {
    id: rejection.eventId,
    requestId: rejection.requestId,
    flowId: rejection.flowId ?? null,
    flowVersion: rejection.flowVersion ?? null,
    path: rejection.path,
    status: 'rejected',
    receivedAt: toDate(rejection.receivedAt),
    headers: '{}',
    rawBody: null,
    sizeBytes: rejection.sizeBytes,
    duplicateOf: null,
    test: false,
    rejection: JSON.stringify({
      status: rejection.status,
      code: rejection.code,
      message: rejection.message,
      ...(rejection.diagnosis === undefined ? {} : { diagnosis: rejection.diagnosis }),
      ...(rejection.details === undefined ? {} : { details: rejection.details }),
    }),
  })
}

/**
 * Takes every claim, or none: returns the event holding one of the keys now (other than this one), after
 * undoing the claims taken before it. Keys are taken in one order (scope, then key bytes), so two deliveries
 * claiming the same keys wait for each other instead of deadlocking.
 */
async function takeClaims(
  client: pg.PoolClient,
  claims: DedupeClaim[],
  eventId: string,
  receivedAt: Date,
): Promise<string | undefined> {
  const byKey = new Map<string, { scope: string; key: Buffer; expiresAt: Date }>()
  for (const claim of claims) {
    const key = toBytes(claim.key)
    // A key claimed twice in one delivery: the later claim wins, as a second upsert would make it.
    byKey.set(`${claim.scope}\u0000${key.toString('hex')}`, {
      scope: claim.scope,
      key,
      expiresAt: toDate(claim.expiresAt),
    })
  }
  const ordered = [...byKey.values()].sort(
    (a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0) || Buffer.compare(a.key, b.key),
  )
  if (ordered.length === 0) return undefined
  // A savepoint only when an earlier claim may have to be given back.
  const several = ordered.length > 1
  if (several) await client.query('SAVEPOINT claims')
  for (const claim of ordered) {
    // The row is locked whether or not it is updated, so the holder read next is the committed one.
    const taken = await client.query(
      `INSERT INTO dedupe_claims (scope, key, event_id, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (scope, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
       WHERE dedupe_claims.expires_at <= $5 OR dedupe_claims.event_id = excluded.event_id`,
      [claim.scope, claim.key, eventId, claim.expiresAt, receivedAt],
    )
    if (taken.rowCount === 1) continue
    const { rows } = await client.query<{ event_id: string }>(
      'SELECT event_id FROM dedupe_claims WHERE scope = $1 AND key = $2',
      [claim.scope, claim.key],
    )
    if (several) await client.query('ROLLBACK TO SAVEPOINT claims')
    const holder = rows[0]?.event_id
    if (holder === undefined) throw new Error(`claim ${claim.scope} lost its row while locked`)
    return holder
  }
  if (several) await client.query('RELEASE SAVEPOINT claims')
  return undefined
}

interface EventRecord {
  id: string
  requestId: string
  flowId: string | null
  flowVersion: number | null
  path: string
  status: EventStatus
  receivedAt: Date
  headers: string
  rawBody: Buffer | null
  sizeBytes: number
  duplicateOf: string | null
  test: boolean
  rejection: string | null
}

async function insertEvent(client: pg.PoolClient, event: EventRecord): Promise<void> {
  await client.query(
    `INSERT INTO events (id, request_id, flow_id, flow_version, path, status, received_at, updated_at,
                         headers, raw_body, size_bytes, duplicate_of, test, rejection)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13)`,
    [
      event.id,
      event.requestId,
      event.flowId,
      event.flowVersion,
      event.path,
      event.status,
      event.receivedAt,
      event.headers,
      event.rawBody,
      event.sizeBytes,
      event.duplicateOf,
      event.test,
      event.rejection,
    ],
  )
}
