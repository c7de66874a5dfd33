/**
 * @module Where `export`, `diff` and `lineage` read saved flow versions: a running runtime's API (`--server`,
 * `--token`), or its store directly (`--data DIR` of `mapper serve`, or `--store URL`), for when it is not running.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Command, Option } from 'commander'
import type { FlowDocument } from '../model/types.ts'
import { openStore } from '../store/open-store.ts'
import { DATABASE_FILE } from '../store/sqlite/connection.ts'
import type { FlowSummary, Store } from '../store/store.ts'
import { ApiCallError, type ApiTarget, callApi, withApiOptions } from './api-client.ts'

export interface SourceOptions extends ApiTarget {
  data?: string
  store?: string
}

export interface SavedFlowVersion {
  document: FlowDocument
  savedAt: string
}

export interface FlowSource {
  /** Every flow's id, sorted. */
  flowIds(): Promise<string[]>
  /** One saved version, the latest when `version` is not given; undefined when there is none. */
  version(flowId: string, version?: number): Promise<SavedFlowVersion | undefined>
  close(): Promise<void>
}

/** `--server`/`--token`, plus `--data` and `--store` to read a store instead. */
export function withSourceOptions(command: Command): Command {
  return withApiOptions(command)
    .addOption(new Option('--data <dir>', 'read the SQLite store in this data directory instead of the API'))
    .addOption(new Option('--store <url>', 'read this store instead of the API'))
}

export function readsStore(options: SourceOptions): boolean {
  return options.data !== undefined || options.store !== undefined
}

export async function openFlowSource(options: SourceOptions): Promise<FlowSource> {
  if (!readsStore(options)) return apiSource(options)
  const data = options.data ?? '.mapper'
  if (options.store === undefined && !existsSync(join(data, DATABASE_FILE))) {
    throw new Error(`no store in ${data} (give --data DIR of \`mapper serve\`, --store URL, or --server URL)`)
  }
  return storeSource(await openStore(options.store, data))
}

function apiSource(target: ApiTarget): FlowSource {
  return {
    async flowIds() {
      const flows = await callApi<FlowSummary[]>(target, 'GET', '/flows')
      return flows.map((flow) => flow.id).sort()
    },
    async version(flowId, version) {
      const id = encodeURIComponent(flowId)
      try {
        const number = version ?? (await callApi<FlowDocument>(target, 'GET', `/flows/${id}`)).version
        return await callApi<SavedFlowVersion>(target, 'GET', `/flows/${id}/versions/${number}`)
      } catch (error) {
        if (error instanceof ApiCallError && error.status === 404) return undefined
        throw error
      }
    },
    async close() {},
  }
}

function storeSource(store: Store): FlowSource {
  return {
    async flowIds() {
      return (await store.listFlows()).map((flow) => flow.id).sort()
    },
    async version(flowId, version) {
      return version === undefined ? store.latestFlowVersion(flowId) : store.getFlowVersion(flowId, version)
    },
    close: () => store.close(),
  }
}
