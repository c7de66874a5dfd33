/**
 * @module `mapper lineage --flow ID`: a saved flow version's field lineage as an OpenLineage run event (JSON, to
 * send to a catalogue's lineage endpoint), from a running runtime or its store; `--summary` prints it readably.
 */
import { Command } from 'commander'
import { versionOpenLineage } from '../files/flow-openlineage.ts'
import { DEFAULT_LINEAGE_NAMESPACE, type RunEvent } from '../files/openlineage-event.ts'
import { nodeKinds } from '../nodes/index.ts'
import { callApi, reportingFailures } from './api-client.ts'
import { positiveInteger } from './export.ts'
import { openFlowSource, readsStore, type SourceOptions, withSourceOptions } from './flow-source.ts'

interface LineageOptions extends SourceOptions {
  flow: string
  version?: number
  namespace: string
  summary?: boolean
}

export function lineageCommand(): Command {
  return withSourceOptions(new Command('lineage'))
    .description('field lineage of a saved flow version as an OpenLineage run event (columnLineage facet)')
    .requiredOption('--flow <id>', 'the flow')
    .option('--version <n>', 'the saved version (default: the latest)', positiveInteger)
    .option('--namespace <name>', 'OpenLineage namespace of the job and its datasets', DEFAULT_LINEAGE_NAMESPACE)
    .option('--summary', 'print output fields and where they come from, instead of the JSON event')
    .action(
      reportingFailures('lineage', async (options: LineageOptions) => {
        const event = await runEvent(options)
        console.log(options.summary ? summarize(event) : JSON.stringify(event, null, 2))
      }),
    )
}

async function runEvent(options: LineageOptions): Promise<RunEvent> {
  const source = await openFlowSource(options)
  try {
    const saved = await source.version(options.flow, options.version)
    if (!saved) {
      throw new Error(
        `flow "${options.flow}" has no ${options.version ? `version ${options.version}` : 'saved version'}`,
      )
    }
    if (readsStore(options)) return versionOpenLineage(saved, nodeKinds, options.namespace)
    const id = encodeURIComponent(options.flow)
    const query = `?namespace=${encodeURIComponent(options.namespace)}`
    return await callApi<RunEvent>(
      options,
      'GET',
      `/flows/${id}/versions/${saved.document.version}/openlineage${query}`,
    )
  } finally {
    await source.close()
  }
}

/** One block per output dataset: `field ← input, input`, then what decides whether it is produced. */
export function summarize(event: RunEvent): string {
  const lines = [`${event.job.name} (namespace ${event.job.namespace}, run ${event.run.runId})`]
  for (const input of event.inputs) lines.push(`input  ${input.name}`)
  for (const output of event.outputs) {
    const lineage = output.facets.columnLineage
    lines.push(`output ${output.name}`)
    for (const [field, { inputFields }] of Object.entries(lineage?.fields ?? {})) {
      const from = inputFields.map((input) =>
        input.name === event.inputs[0]?.name ? input.field : `${input.name}:${input.field}`,
      )
      lines.push(`  ${field} ← ${from.length === 0 ? '(no input: a constant)' : from.join(', ')}`)
    }
    const conditions = (lineage?.dataset ?? []).map((input) => `${input.field} (${input.transformations[0]?.subtype})`)
    if (conditions.length > 0) lines.push(`  only when: ${conditions.join(', ')}`)
  }
  return lines.join('\n')
}
