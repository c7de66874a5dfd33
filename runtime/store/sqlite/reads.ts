/** @module Every read of the SQLite store, on the main thread's read-only connection (WAL: never waits for the writer). */
import type Sqlite from 'better-sqlite3'
import { restoreStepInputs } from '../../engine/step-inputs.ts'
import type {
  AuditEntry,
  Deployment,
  EventDetail,
  EventFilter,
  FlowSummary,
  FlowVersionRecord,
  Page,
  QueueFigures,
  SecretSummary,
  StoredDeadLetter,
  StoredEvent,
  StoredSecretValue,
} from '../store.ts'
import { decodeCursor, encodeCursor, pageLimit } from '../store-paging.ts'
import {
  type AuditRow,
  auditFromRow,
  type DeadLetterRow,
  deadLetterFromRow,
  type EventRow,
  eventFromRow,
  type FlowVersionRow,
  flowVersionFromRow,
  flowVersionWithDocument,
  type LineageRow,
  lineageFromRows,
  type SecretSummaryRow,
  type SecretValueRow,
  type StepRow,
  secretSummaryFromRow,
  secretValueFromRow,
  stepFromRow,
  type TokenRow,
  toIso,
  toMs,
} from './rows.ts'

/** A token's columns but its hash: a read never returns the hash. */
const TOKEN_COLUMNS = 'id, name, role, created_at, created_by, revoked_at, last_used_at'

type Params = Record<string, string | number>

/** A newest-first page query: the filter's conditions plus the cursor's, ordered by (time, id) descending. */
function pageQuery(table: string, timeColumn: string, conditions: string[], after: boolean): string {
  const where = after ? [...conditions, `(${timeColumn}, id) < (@cursorAt, @cursorId)`] : conditions
  return `SELECT * FROM ${table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${timeColumn} DESC, id DESC LIMIT @limit`
}

function prepareStatements(db: Sqlite.Database) {
  return {
    flowVersion: db.prepare<[string, number], FlowVersionRow & { document: string }>(
      'SELECT * FROM flow_versions WHERE flow_id = ? AND version = ?',
    ),
    latestFlowVersion: db.prepare<[string], FlowVersionRow & { document: string }>(
      'SELECT * FROM flow_versions WHERE flow_id = ? ORDER BY version DESC LIMIT 1',
    ),
    flowVersions: db.prepare<[string], FlowVersionRow>(
      'SELECT flow_id, version, hash, saved_at, saved_by FROM flow_versions WHERE flow_id = ? ORDER BY version',
    ),
    flows: db.prepare<[], { flow_id: string; name: string; version: number; deployed_version: number | null }>(`
      SELECT v.flow_id, v.name, v.version, d.version AS deployed_version
      FROM flow_versions v LEFT JOIN deployments d ON d.flow_id = v.flow_id
      WHERE v.version = (SELECT MAX(version) FROM flow_versions WHERE flow_id = v.flow_id)
      ORDER BY v.flow_id`),
    deployments: db.prepare<[], { flow_id: string; version: number }>('SELECT flow_id, version FROM deployments'),
    canaryDeployments: db.prepare<
      [],
      { flow_id: string; version: number; canary_version: number | null; canary_percent: number | null }
    >('SELECT flow_id, version, canary_version, canary_percent FROM deployments'),
    claim: db.prepare<[string, string, number], { event_id: string }>(
      'SELECT event_id FROM dedupe_claims WHERE scope = ? AND key = ? AND expires_at > ?',
    ),
    event: db.prepare<[string], EventRow>('SELECT * FROM events WHERE id = ?'),
    steps: db.prepare<[string], StepRow>('SELECT step FROM steps WHERE event_id = ? ORDER BY seq'),
    lineage: db.prepare<[string], LineageRow>('SELECT node, lineage FROM lineage WHERE event_id = ? ORDER BY node'),
    eventDeadLetters: db.prepare<[string], DeadLetterRow>(
      'SELECT * FROM dead_letters WHERE event_id = ? ORDER BY created_at, id',
    ),
    pendingWork: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM work_items WHERE event_id = ?'),
    queue: db.prepare<
      [{ now: number }],
      { pending: number; leased: number; retrying: number; oldest_due: number | null }
    >(`
      SELECT COUNT(*) AS pending,
             COALESCE(SUM(lease_owner IS NOT NULL AND lease_expires_at > @now), 0) AS leased,
             COALESCE(SUM(attempt > 1), 0) AS retrying,
             MIN(CASE WHEN run_at <= @now AND (lease_owner IS NULL OR lease_expires_at <= @now) THEN run_at END)
               AS oldest_due
      FROM work_items`),
    openDeadLetters: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM dead_letters WHERE replayed_at IS NULL'),
    // A leased item comes due again when its lease expires.
    nextDue: db.prepare<[], { due: number | null }>(`
      SELECT MIN(CASE WHEN lease_owner IS NULL THEN run_at ELSE MAX(run_at, lease_expires_at) END) AS due
      FROM work_items`),
    liveToken: db.prepare<[string], TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = ? AND revoked_at IS NULL`,
    ),
    tokens: db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`),
    // The current value (the highest id) and the value the last rotation replaced, while it is valid: an
    // older one never, whatever its valid_until says.
    secretValues: db.prepare<{ name: string; now: number }, SecretValueRow>(`
      SELECT ciphertext, fingerprint, set_at, valid_until FROM secrets
      WHERE name = @name AND (valid_until IS NULL OR (valid_until > @now AND id = (
        SELECT MAX(id) FROM secrets WHERE name = @name AND valid_until IS NOT NULL)))
      ORDER BY id DESC`),
    secrets: db.prepare<{ now: number }, SecretSummaryRow>(`
      SELECT c.name, c.fingerprint, c.set_at, c.set_by,
             p.fingerprint AS previous_fingerprint, p.valid_until AS previous_valid_until
      FROM secrets c
      LEFT JOIN secrets p
        ON p.id = (SELECT MAX(id) FROM secrets WHERE name = c.name AND valid_until IS NOT NULL)
       AND p.valid_until > @now
      WHERE c.valid_until IS NULL
      ORDER BY c.name`),
  }
}

type ReadStatements = ReturnType<typeof prepareStatements>

export class SqliteReads {
  /** Page queries differ by which filters are set: each shape is prepared once. */
  private readonly pageStatements = new Map<string, Sqlite.Statement<[Params], unknown>>()
  private readonly statements: ReadStatements

  constructor(private readonly db: Sqlite.Database) {
    this.statements = prepareStatements(db)
  }

  getFlowVersion(flowId: string, version: number): FlowVersionRecord | undefined {
    const row = this.statements.flowVersion.get(flowId, version)
    return row && flowVersionWithDocument(row)
  }

  latestFlowVersion(flowId: string): FlowVersionRecord | undefined {
    const row = this.statements.latestFlowVersion.get(flowId)
    return row && flowVersionWithDocument(row)
  }

  listFlowVersions(flowId: string): Array<Omit<FlowVersionRecord, 'document'>> {
    return this.statements.flowVersions.all(flowId).map(flowVersionFromRow)
  }

  listFlows(): FlowSummary[] {
    return this.statements.flows.all().map((row) => ({
      id: row.flow_id,
      name: row.name,
      version: row.version,
      deployedVersion: row.deployed_version,
    }))
  }

  deployedFlows(): Map<string, number> {
    return new Map(this.statements.deployments.all().map((row) => [row.flow_id, row.version]))
  }

  deployments(): Map<string, Deployment> {
    return new Map(
      this.statements.canaryDeployments.all().map((row) => [
        row.flow_id,
        {
          version: row.version,
          canary:
            row.canary_version === null || row.canary_percent === null
              ? null
              : { version: row.canary_version, percent: row.canary_percent },
        },
      ]),
    )
  }

  findClaim(scope: string, key: string, now: Date): string | undefined {
    return this.statements.claim.get(scope, key, now.getTime())?.event_id
  }

  nextDueAt(): Date | undefined {
    const due = this.statements.nextDue.get()?.due
    return due === null || due === undefined ? undefined : new Date(due)
  }

  queueFigures(now: Date): QueueFigures {
    return this.db
      .transaction((): QueueFigures => {
        const queue = this.statements.queue.get({ now: now.getTime() })
        const oldestDue = queue?.oldest_due ?? null
        return {
          pending: queue?.pending ?? 0,
          leased: queue?.leased ?? 0,
          retrying: queue?.retrying ?? 0,
          deadLetters: this.statements.openDeadLetters.get()?.n ?? 0,
          oldestDueMs: oldestDue === null ? 0 : Math.max(0, now.getTime() - oldestDue),
        }
      })
      .deferred()
  }

  listEvents(filter: EventFilter): Page<StoredEvent> {
    const conditions: string[] = []
    const params: Params = {}
    if (filter.flow !== undefined) {
      conditions.push('flow_id = @flow')
      params.flow = filter.flow
    }
    if (filter.status !== undefined) {
      conditions.push('status = @status')
      params.status = filter.status
    }
    if (filter.test !== undefined) {
      conditions.push('test = @test')
      params.test = filter.test ? 1 : 0
    }
    if (filter.since !== undefined) {
      conditions.push('received_at >= @since')
      params.since = toMs(filter.since)
    }
    if (filter.until !== undefined) {
      conditions.push('received_at < @until')
      params.until = toMs(filter.until)
    }
    const rows = this.page<EventRow>('events', 'received_at', conditions, params, filter)
    return this.toPage(rows, pageLimit(filter.limit), eventFromRow, (row) => ({ at: row.received_at, id: row.id }))
  }

  getEvent(id: string): EventDetail | undefined {
    // One read transaction: the event, its steps and its queue state as of one commit.
    return this.db
      .transaction((): EventDetail | undefined => {
        const row = this.statements.event.get(id)
        if (!row) return undefined
        return {
          ...eventFromRow(row),
          steps: restoreStepInputs(this.statements.steps.all(id).map(stepFromRow)),
          lineage: lineageFromRows(this.statements.lineage.all(id)),
          deadLetters: this.statements.eventDeadLetters.all(id).map(deadLetterFromRow),
          pendingWork: this.statements.pendingWork.get(id)?.n ?? 0,
        }
      })
      .deferred()
  }

  /** Open dead letters unless `includeReplayed`; `ids` keeps only those (an empty list: none). */
  listDeadLetters(filter: {
    flow?: string
    ids?: string[]
    limit?: number
    cursor?: string
    includeReplayed?: boolean
  }): Page<StoredDeadLetter> {
    const conditions: string[] = []
    const params: Params = {}
    if (filter.flow !== undefined) {
      conditions.push('flow_id = @flow')
      params.flow = filter.flow
    }
    if (filter.ids !== undefined) {
      // One statement for any number of ids: the list travels as one JSON parameter.
      conditions.push('id IN (SELECT value FROM json_each(@ids))')
      params.ids = JSON.stringify(filter.ids)
    }
    if (filter.includeReplayed !== true) conditions.push('replayed_at IS NULL')
    const rows = this.page<DeadLetterRow>('dead_letters', 'created_at', conditions, params, filter)
    return this.toPage(rows, pageLimit(filter.limit), deadLetterFromRow, (row) => ({ at: row.created_at, id: row.id }))
  }

  /** The live token with this hash, with its last use as stored (the store decides whether to record this one). */
  liveToken(hash: string): TokenRow | undefined {
    return this.statements.liveToken.get(hash)
  }

  listTokens(): TokenRow[] {
    return this.statements.tokens.all()
  }

  secretValues(name: string, now: Date): StoredSecretValue[] {
    return this.statements.secretValues.all({ name, now: now.getTime() }).map(secretValueFromRow)
  }

  listSecrets(now: Date): SecretSummary[] {
    return this.statements.secrets.all({ now: now.getTime() }).map(secretSummaryFromRow)
  }

  listAudit(filter: { limit?: number; cursor?: string }): Page<AuditEntry> {
    const rows = this.page<AuditRow>('audit', 'at', [], {}, filter)
    return this.toPage(rows, pageLimit(filter.limit), auditFromRow, (row) => ({ at: row.at, id: row.id }))
  }

  /** Reads one row more than the page holds, to know whether another page follows. */
  private page<Row>(
    table: string,
    timeColumn: string,
    conditions: string[],
    params: Params,
    filter: { limit?: number; cursor?: string },
  ): Row[] {
    const sql = pageQuery(table, timeColumn, conditions, filter.cursor !== undefined)
    let statement = this.pageStatements.get(sql)
    if (!statement) {
      statement = this.db.prepare<[Params], unknown>(sql)
      this.pageStatements.set(sql, statement)
    }
    const bound: Params = { ...params, limit: pageLimit(filter.limit) + 1 }
    if (filter.cursor !== undefined) {
      const position = decodeCursor(filter.cursor)
      bound.cursorAt = toMs(position.at)
      bound.cursorId = position.id
    }
    return statement.all(bound) as Row[]
  }

  private toPage<Row, Item>(
    rows: Row[],
    limit: number,
    toItem: (row: Row) => Item,
    positionOf: (row: Row) => { at: number; id: string },
  ): Page<Item> {
    const items = rows.slice(0, limit)
    const last = items.at(-1)
    const more = rows.length > limit && last !== undefined
    return {
      items: items.map(toItem),
      nextCursor: more ? encodeCursor({ at: toIso(positionOf(last).at), id: positionOf(last).id }) : null,
    }
  }
}
