/**
 * @module `mapper import [files…]`: flow files (either form) saved to a running runtime as new versions. The file's
 * `version`, if it has one, is not used: each changed flow is saved as the latest version + 1, and a file whose
 * content equals the latest version saves nothing, so importing what was exported is a no-op.
 */
import { Command } from 'commander'
import { contentHash } from '../deploy/sync-flow-files.ts'
import { idFromFileName, listFlowFiles, readFlowFile } from '../files/flow-files.ts'
import type { FlowDocument } from '../model/types.ts'
import type { FlowSummary } from '../store/store.ts'
import { ApiCallError, type ApiTarget, callApi, reportingFailures, withApiOptions } from './api-client.ts'

interface ImportOptions extends ApiTarget {
  flows: string
  deploy?: boolean
  reason?: string
}

export type ImportOutcome =
  | { path: string; flowId: string; action: 'saved' | 'unchanged'; version: number; deployed?: boolean }
  | { path: string; flowId?: string; action: 'failed'; error: string }

export function importCommand(): Command {
  return withApiOptions(new Command('import'))
    .description('save flow files to a running runtime as new versions (unchanged files save nothing)')
    .argument('[files...]', 'flow files (*.flow.json); default: every flow file in --flows')
    .option('--flows <dir>', 'directory of flow files', 'flows')
    .option('--deploy', 'also deploy each imported flow’s latest version (needs the operator role)')
    .option('--reason <text>', 'with --deploy: why, for the audit log')
    .action(
      reportingFailures('import', async (files: string[], options: ImportOptions) => {
        const paths = files.length > 0 ? files : listFlowFiles(options.flows)
        if (paths.length === 0) throw new Error(`no flow files found in ${options.flows}/`)
        let failed = 0
        for (const path of paths) {
          const outcome = await importFile(path, options)
          console.log(describeOutcome(outcome))
          if (outcome.action === 'failed') failed++
        }
        if (failed > 0) process.exitCode = 1
      }),
    )
}

export async function importFile(path: string, options: ImportOptions): Promise<ImportOutcome> {
  let flowId: string | undefined
  try {
    const file = readFlowFile(path)
    if (file.parseError) throw new Error(file.parseError)
    const document = file.document as FlowDocument
    flowId = typeof document.id === 'string' ? document.id : undefined
    if (flowId === undefined) throw new Error('the file has no flow id')
    const named = idFromFileName(path)
    if (named !== undefined && named !== flowId) {
      throw new Error(`the file is named ${named}.flow.json but holds the flow "${flowId}"`)
    }
    const latest = await latestDocument(options, flowId)
    let version = latest?.version ?? 0
    let action: 'saved' | 'unchanged' = 'unchanged'
    if (!latest || contentHash(latest) !== contentHash(document)) {
      version += 1
      await callApi(options, 'PUT', `/flows/${encodeURIComponent(flowId)}`, { ...document, version })
      action = 'saved'
    }
    const deployed = options.deploy ? await deployIfNeeded(options, flowId, version) : undefined
    return { path, flowId, action, version, ...(deployed === undefined ? {} : { deployed }) }
  } catch (error) {
    return { path, ...(flowId === undefined ? {} : { flowId }), action: 'failed', error: (error as Error).message }
  }
}

async function latestDocument(target: ApiTarget, flowId: string): Promise<FlowDocument | undefined> {
  try {
    return await callApi<FlowDocument>(target, 'GET', `/flows/${encodeURIComponent(flowId)}`)
  } catch (error) {
    if (error instanceof ApiCallError && error.status === 404) return undefined
    throw error
  }
}

/** Deploys `version` unless it already takes the flow's webhooks; true when it deployed. */
async function deployIfNeeded(options: ImportOptions, flowId: string, version: number): Promise<boolean> {
  const flows = await callApi<FlowSummary[]>(options, 'GET', '/flows')
  if (flows.find((flow) => flow.id === flowId)?.deployedVersion === version) return false
  await callApi(options, 'POST', `/flows/${encodeURIComponent(flowId)}/deploy`, {
    version,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  })
  return true
}

function describeOutcome(outcome: ImportOutcome): string {
  if (outcome.action === 'failed') return `${outcome.flowId ?? outcome.path}: not imported: ${outcome.error}`
  const deployed = outcome.deployed ? ', deployed' : ''
  if (outcome.action === 'saved') return `${outcome.flowId}: saved as version ${outcome.version}${deployed}`
  return `${outcome.flowId}: unchanged (version ${outcome.version})${deployed}`
}
