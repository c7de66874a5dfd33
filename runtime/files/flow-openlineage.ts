/** @module The OpenLineage run event of one saved flow version, as `GET …/openlineage` and `mapper lineage` give it. */
import { createHash } from 'node:crypto'
import type { NodeKind } from '../model/node-kind.ts'
import type { FlowDocument } from '../model/types.ts'
import { flowLineage } from './flow-lineage.ts'
import { DEFAULT_LINEAGE_NAMESPACE, openLineageEvent, type RunEvent } from './openlineage-event.ts'

export interface SavedVersion {
  document: FlowDocument
  /** When the version was saved (ISO): the event's time. */
  savedAt: string
}

export function versionOpenLineage(
  saved: SavedVersion,
  kinds: ReadonlyMap<string, NodeKind>,
  namespace = DEFAULT_LINEAGE_NAMESPACE,
): RunEvent {
  const { document } = saved
  return openLineageEvent(document, flowLineage(document, kinds), {
    namespace,
    runId: versionRunId(namespace, document.id, document.version),
    eventTime: saved.savedAt,
  })
}

/** A name-based UUID (version 5 layout, SHA-256 of the name) for `<namespace>/<flow>@<version>`: stable per version. */
export function versionRunId(namespace: string, flowId: string, version: number): string {
  const bytes = createHash('sha256').update(`${namespace}/${flowId}@${version}`).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
