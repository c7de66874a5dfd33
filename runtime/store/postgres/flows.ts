/** @module Flow versions and deployments: save (latest + 1 or a VersionConflict), deploy, and their reads. */
import type pg from 'pg'
import type { FlowDocument } from '../../model/types.ts'
import type { CanaryDeployment, Deployment, FlowSummary, FlowVersionRecord } from '../store.ts'
import { VersionConflict } from '../store.ts'
import type { Queryable } from './connection.ts'
import { announce } from './news.ts'
import { type FlowVersionRow, flowVersionFromRow, flowVersionWithDocument, toIso } from './rows.ts'

/**
 * One statement: inserts the version only if it is the latest + 1. Of two concurrent saves of one version
 * the second waits on the first's key and then inserts nothing; it reads the latest again for its conflict.
 */
export async function saveFlowVersion(
  db: Queryable,
  version: { document: FlowDocument; canonical: string; hash: string; savedBy: string | null; savedAt: Date },
): Promise<FlowVersionRecord> {
  const { document, canonical, hash, savedBy, savedAt } = version
  const saved = await db.query(
    `INSERT INTO flow_versions (flow_id, version, name, document, hash, saved_at, saved_by)
     SELECT $1, $2, $3, $4, $5, $6, $7
     WHERE (SELECT COALESCE(MAX(version), 0) FROM flow_versions WHERE flow_id = $1) = $2 - 1
     ON CONFLICT (flow_id, version) DO NOTHING`,
    [document.id, document.version, document.name, canonical, hash, savedAt, savedBy],
  )
  if (saved.rowCount === 0) {
    const latest = await db.query<{ version: number | null }>(
      'SELECT MAX(version) AS version FROM flow_versions WHERE flow_id = $1',
      [document.id],
    )
    throw new VersionConflict(document.id, document.version, latest.rows[0]?.version ?? 0)
  }
  return { flowId: document.id, version: document.version, document, hash, savedAt: toIso(savedAt), savedBy }
}

/**
 * Deploys a saved version (with a canary beside it, or ending any) and tells every process sharing the
 * database, in the same transaction. The table's constraints check the canary (003_canary.sql).
 */
export async function deployFlow(
  client: pg.PoolClient,
  flowId: string,
  version: number,
  canary: CanaryDeployment | undefined,
  now: Date,
) {
  const deployed = await client.query(
    `INSERT INTO deployments (flow_id, version, deployed_at, canary_version, canary_percent)
     SELECT flow_id, version, $3, $4::integer, $5::integer FROM flow_versions WHERE flow_id = $1 AND version = $2
     ON CONFLICT (flow_id) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
       canary_version = excluded.canary_version, canary_percent = excluded.canary_percent`,
    [flowId, version, now, canary?.version ?? null, canary?.percent ?? null],
  )
  if (deployed.rowCount === 0) throw new Error(`flow ${flowId} has no version ${version}`)
  await announce(client, { kind: 'deploy', flowId, version })
}

export async function getFlowVersion(
  db: Queryable,
  flowId: string,
  version: number,
): Promise<FlowVersionRecord | undefined> {
  const { rows } = await db.query<FlowVersionRow & { document: string }>(
    'SELECT * FROM flow_versions WHERE flow_id = $1 AND version = $2',
    [flowId, version],
  )
  return rows[0] && flowVersionWithDocument(rows[0])
}

export async function latestFlowVersion(db: Queryable, flowId: string): Promise<FlowVersionRecord | undefined> {
  const { rows } = await db.query<FlowVersionRow & { document: string }>(
    'SELECT * FROM flow_versions WHERE flow_id = $1 ORDER BY version DESC LIMIT 1',
    [flowId],
  )
  return rows[0] && flowVersionWithDocument(rows[0])
}

export async function listFlowVersions(
  db: Queryable,
  flowId: string,
): Promise<Array<Omit<FlowVersionRecord, 'document'>>> {
  const { rows } = await db.query<FlowVersionRow>(
    'SELECT flow_id, version, hash, saved_at, saved_by FROM flow_versions WHERE flow_id = $1 ORDER BY version',
    [flowId],
  )
  return rows.map(flowVersionFromRow)
}

export async function listFlows(db: Queryable): Promise<FlowSummary[]> {
  const { rows } = await db.query<{ flow_id: string; name: string; version: number; deployed_version: number | null }>(`
    SELECT DISTINCT ON (v.flow_id) v.flow_id, v.name, v.version, d.version AS deployed_version
    FROM flow_versions v LEFT JOIN deployments d ON d.flow_id = v.flow_id
    ORDER BY v.flow_id, v.version DESC`)
  return rows.map((row) => ({
    id: row.flow_id,
    name: row.name,
    version: row.version,
    deployedVersion: row.deployed_version,
  }))
}

export async function deployedFlows(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ flow_id: string; version: number }>('SELECT flow_id, version FROM deployments')
  return new Map(rows.map((row) => [row.flow_id, row.version]))
}

export async function deployments(db: Queryable): Promise<Map<string, Deployment>> {
  const { rows } = await db.query<{
    flow_id: string
    version: number
    canary_version: number | null
    canary_percent: number | null
  }>('SELECT flow_id, version, canary_version, canary_percent FROM deployments')
  return new Map(
    rows.map((row) => [
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
