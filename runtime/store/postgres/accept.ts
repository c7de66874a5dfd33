/**
 * @module Ingest: an accepted delivery whole in one transaction (event, steps, claims, work), and a rejection.
 *
 * Claims decide first. Each is an INSERT … ON CONFLICT DO UPDATE that takes the key only when the claim
 * there has expired (or is this event's own), so of many processes accepting one key at once exactly one
 * takes it: the others wait on the key's row, then find it held. A delivery that finds a key held by
 * another event is kept as that event's duplicate, and none of its claims, work or dead letters are kept.
 *
 * A delivery with at most one claim (nearly all) is one statement in autocommit, one round trip: it takes
 * the claim and writes the rest only if it did (accept-statement.ts). Several claims, or one found held, take
 * the longer path: a transaction that takes each claim under a savepoint, then writes in one statement.
 */
import type pg from 'pg'
import type { AcceptedDelivery, AcceptResult, EventStatus, RejectedDelivery } from '../store.ts'
import { acceptedStatus } from '../store-status.ts'
import { type OrderedClaim, orderedClaims, WORK_NEWS, writeDelivery } from './accept-statement.ts'
import { soleStatement } from './connection.ts'
import type { WorkNews } from './news.ts'
import { toDate } from './rows.ts'

export async function accept(
  client: pg.PoolClient,
  delivery: AcceptedDelivery,
  workNews: WorkNews,
): Promise<AcceptResult> {
  // The delivery's own clock decides which claims have expired and when its work is due, so a store
  // under an engine with a fixed clock behaves as it would in real time.
  const receivedAt = toDate(delivery.receivedAt)
  const claims = orderedClaims(delivery.claims)
  const notify = delivery.work.length > 0 && workNews.due() ? WORK_NEWS : null
  // At most one claim: one statement that takes it and, only if it did, writes the rest — a transaction of
  // its own. It writes nothing when the key is held; the holder is then read under the lock below.
  if (claims.length <= 1) {
    const written = soleStatement<{ taken: boolean }>(client, writeDelivery(delivery, receivedAt, claims, notify))
    if (written !== undefined && (await written).rows[0]?.taken === true) return result(delivery, undefined)
  }
  const holder = await takeClaims(client, claims, delivery.eventId, receivedAt)
  await client.query(writeDelivery(delivery, receivedAt, [], holder === undefined ? notify : null, holder))
  return result(delivery, holder)
}

function result(delivery: AcceptedDelivery, holder: string | undefined): AcceptResult {
  const duplicateOf = delivery.duplicateOf ?? holder
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
 * undoing the claims taken before it. Keys come in one order (`orderedClaims`), so two deliveries claiming
 * the same keys wait for each other instead of deadlocking.
 */
async function takeClaims(
  client: pg.PoolClient,
  ordered: OrderedClaim[],
  eventId: string,
  receivedAt: Date,
): Promise<string | undefined> {
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
