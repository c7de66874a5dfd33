/**
 * @module An accepted delivery written by one prepared statement: its claim (if any), event, steps, lineage,
 * work, dead letters and work news, lists passed as arrays and unnested.
 *
 * The claim is the first CTE and everything else is written only from `go`, which holds a row when every
 * claim passed was taken. Data-modifying CTEs all run whether referenced or not, and see one snapshot, so
 * each one selects from `go` rather than relying on order. pg_notify inside the statement is sent only if
 * the statement's transaction commits, like a NOTIFY anywhere else.
 */
import type pg from 'pg'
import type { DedupeClaim } from '../../engine/types.ts'
import type { AcceptedDelivery, StoreNews } from '../store.ts'
import { acceptedStatus } from '../store-status.ts'
import { deadLetterColumns, lineageColumns, stepColumns, workColumns } from './column-arrays.ts'
import { NEWS_CHANNEL } from './news.ts'
import { toBytes, toDate } from './rows.ts'

export interface OrderedClaim {
  scope: string
  key: Buffer
  expiresAt: Date
}

/** The payload of a `work` notification, as `announce` sends it. */
export const WORK_NEWS = JSON.stringify({ kind: 'work' } satisfies StoreNews)

/**
 * The delivery's claims once each, in the one order every process takes keys in (scope, then key bytes), so
 * two deliveries claiming the same keys wait for each other instead of deadlocking.
 */
export function orderedClaims(claims: DedupeClaim[]): OrderedClaim[] {
  const byKey = new Map<string, OrderedClaim>()
  for (const claim of claims) {
    const key = toBytes(claim.key)
    // A key claimed twice in one delivery: the later claim wins, as a second upsert would make it.
    byKey.set(`${claim.scope}\u0000${key.toString('hex')}`, {
      scope: claim.scope,
      key,
      expiresAt: toDate(claim.expiresAt),
    })
  }
  return [...byKey.values()].sort(
    (a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0) || Buffer.compare(a.key, b.key),
  )
}

const ACCEPT_SQL = `
WITH claimed AS (
  INSERT INTO dedupe_claims (scope, key, event_id, expires_at)
  SELECT c.scope, c.key, $1, c.expires_at FROM unnest($13::text[], $14::bytea[], $15::timestamptz[]) AS c(scope, key, expires_at)
  ON CONFLICT (scope, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
  WHERE dedupe_claims.expires_at <= $7 OR dedupe_claims.event_id = excluded.event_id
  RETURNING 1
), go AS (
  SELECT 1 WHERE (SELECT count(*) FROM claimed) = cardinality($13::text[])
), event AS (
  INSERT INTO events (id, request_id, flow_id, flow_version, path, status, received_at, updated_at,
                      headers, raw_body, size_bytes, duplicate_of, test)
  SELECT $1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12 FROM go
), step AS (
  INSERT INTO steps (event_id, seq, node, kind, phase, port, attempt, started_at, duration_ms, step)
  SELECT $1, s.ord, s.node, s.kind, s.phase, s.port, s.attempt, s.started_at, s.duration_ms, s.step
  FROM go, unnest($16::text[], $17::text[], $18::text[], $19::text[], $20::int[], $21::timestamptz[],
                  $22::float8[], $23::text[]) WITH ORDINALITY
    AS s(node, kind, phase, port, attempt, started_at, duration_ms, step, ord)
), traced AS (
  INSERT INTO lineage (event_id, node, lineage)
  SELECT $1, l.node, l.lineage FROM go, unnest($24::text[], $25::text[]) AS l(node, lineage)
  ON CONFLICT (event_id, node) DO UPDATE SET lineage = excluded.lineage
), work AS (
  INSERT INTO work_items (id, event_id, flow_id, flow_version, node, message, attempt, run_at)
  SELECT w.id, $1, $3, $4, w.node, w.message, 1, $7
  FROM go, unnest($26::text[], $27::text[], $28::text[]) AS w(id, node, message)
), dead AS (
  INSERT INTO dead_letters (id, event_id, flow_id, flow_version, node, error, message, created_at)
  SELECT d.id, $1, $3, $4, d.node, d.error, d.message, $7
  FROM go, unnest($29::text[], $30::text[], $31::text[], $32::text[]) AS d(id, node, error, message)
), news AS (
  SELECT pg_notify($33, $34) FROM go WHERE $34::text IS NOT NULL
)
SELECT EXISTS (SELECT 1 FROM go) AS taken, (SELECT count(*) FROM news) AS notified`

/**
 * The statement for a delivery whose claims are `claims` (none when the caller took them already). With a
 * `holder`, the delivery is that event's duplicate: its event, steps and lineage only. `notify` is the
 * payload of the work news to send with it, or null.
 */
export function writeDelivery(
  delivery: AcceptedDelivery,
  receivedAt: Date,
  claims: OrderedClaim[],
  notify: string | null,
  holder?: string,
): pg.QueryConfig {
  const kept = holder === undefined
  const work = kept ? delivery.work : []
  const deadLetters = kept ? delivery.deadLetters : []
  return {
    // Prepared once per connection: planning this statement costs about as much as running it.
    name: 'mapper_accept_1',
    text: ACCEPT_SQL,
    values: [
      delivery.eventId,
      delivery.requestId,
      delivery.flowId,
      delivery.flowVersion,
      delivery.path,
      kept ? acceptedStatus(delivery) : 'duplicate',
      receivedAt,
      JSON.stringify(delivery.headers),
      toBytes(delivery.rawBody),
      Buffer.byteLength(delivery.rawBody, 'utf8'),
      delivery.duplicateOf ?? holder ?? null,
      delivery.test === true,
      claims.map((claim) => claim.scope),
      claims.map((claim) => claim.key),
      claims.map((claim) => claim.expiresAt),
      ...stepColumns(delivery.steps),
      ...lineageColumns(delivery.lineage),
      ...workColumns(work),
      ...deadLetterColumns(deadLetters),
      NEWS_CHANNEL,
      notify,
    ],
  }
}
