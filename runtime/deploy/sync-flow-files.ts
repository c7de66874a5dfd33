/**
 * @module At start: every flow file whose content changed becomes a new stored version, and is deployed. Files in
 * either form are read (expressions as arrays of lines, as `mapper export` writes them, or as strings).
 */
import { createHash } from 'node:crypto'
import { compileFlow, FlowCompileError, type SchemaSource } from '../engine/compile.ts'
import { listFlowFiles, readFlowFile } from '../files/flow-files.ts'
import { canonicalJson } from '../model/canonical-json.ts'
import type { NodeKind } from '../model/node-kind.ts'
import type { FlowDocument } from '../model/types.ts'
import { type Store, VersionConflict } from '../store/store.ts'

export interface SyncReport {
  path: string
  flowId?: string
  version?: number
  action: 'unchanged' | 'saved' | 'invalid'
  problems?: string[]
}

/** The hash a stored version keeps: of the document without its version number. */
export function contentHash(document: FlowDocument): string {
  return createHash('sha256')
    .update(canonicalJson({ ...document, version: 0 }))
    .digest('hex')
}

export async function syncFlowFiles(
  store: Store,
  dir: string,
  kinds: ReadonlyMap<string, NodeKind>,
  schemas: SchemaSource,
): Promise<SyncReport[]> {
  const reports: SyncReport[] = []
  for (const path of listFlowFiles(dir)) {
    const file = readFlowFile(path, kinds)
    if (file.parseError) {
      reports.push({ path, action: 'invalid', problems: [file.parseError] })
      continue
    }
    try {
      compileFlow(file.document, { kinds, schemas })
    } catch (error) {
      const problems =
        error instanceof FlowCompileError ? error.issues.map((i) => i.message) : [(error as Error).message]
      reports.push({ path, action: 'invalid', problems })
      continue
    }
    reports.push(await saveIfChanged(store, path, file.document as FlowDocument))
  }
  return reports
}

/**
 * Several processes on one database start with the same files: when another one saved the file meanwhile, the
 * save conflicts, and reading again finds the content unchanged.
 */
async function saveIfChanged(store: Store, path: string, document: FlowDocument): Promise<SyncReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await saveOnce(store, path, document)
    } catch (error) {
      if (!(error instanceof VersionConflict) || attempt >= 5) throw error
    }
  }
}

async function saveOnce(store: Store, path: string, document: FlowDocument): Promise<SyncReport> {
  const latest = await store.latestFlowVersion(document.id)
  const deployed = (await store.deployedFlows()).get(document.id)
  if (latest && contentHash(latest.document) === contentHash(document)) {
    if (deployed === undefined) await store.deployFlow(document.id, latest.version)
    return { path, flowId: document.id, version: latest.version, action: 'unchanged' }
  }
  const version = (latest?.version ?? 0) + 1
  await store.saveFlowVersion({ ...document, version }, 'flows-dir')
  await store.deployFlow(document.id, version)
  return { path, flowId: document.id, version, action: 'saved' }
}
