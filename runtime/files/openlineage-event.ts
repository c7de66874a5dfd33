/**
 * @module A flow version's static lineage as an OpenLineage run event, so a data catalogue (Marquez, DataHub,
 * OpenMetadata…) can show where every mapped field came from. Browser-safe.
 *
 * - The job is the flow (`namespace`, flow id); the run is the flow version: its id is derived from the namespace,
 *   flow id and version (so sending the same version twice is one run), its time is when the version was saved.
 * - The input dataset is the webhook, `hooks/<trigger.path>`; fields are lineage paths (`data.reportId`,
 *   `` $headers.`webhook-id` ``, `$event.id`). After an http node, fields come from its answer:
 *   `<flow>/<node>/response`.
 * - Each transform, http and respond node is an output dataset `<flow>/<node>` (an http node's is its request body)
 *   with a `schema` facet and the `columnLineage` facet (1-2-0): per output field its `inputFields` (DIRECT), and
 *   in `dataset` the fields that branch conditions (INDIRECT CONDITIONAL) and dedupe keys (INDIRECT FILTER) read.
 */
import type { FlowDocument } from '../model/types.ts'
import type { ConditionSource, FieldSource, OutputLineage } from './flow-lineage.ts'

export const OPENLINEAGE_PRODUCER = 'https://mapper.studio/runtime'
export const DEFAULT_LINEAGE_NAMESPACE = 'mapper-studio'
export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent'
export const COLUMN_LINEAGE_FACET_URL =
  'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet'
export const SCHEMA_FACET_URL =
  'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet'
export const JOB_TYPE_FACET_URL = 'https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet'

export interface Transformation {
  type: 'DIRECT' | 'INDIRECT'
  subtype: string
  description?: string
  masking: boolean
}

export interface InputField {
  namespace: string
  name: string
  field: string
  transformations: Transformation[]
}

export interface ColumnLineageFacet {
  _producer: string
  _schemaURL: string
  fields: Record<string, { inputFields: InputField[] }>
  dataset: InputField[]
}

export interface SchemaFacet {
  _producer: string
  _schemaURL: string
  fields: Array<{ name: string }>
}

export interface Dataset {
  namespace: string
  name: string
  facets: { schema: SchemaFacet; columnLineage?: ColumnLineageFacet }
}

export interface RunEvent {
  eventType: 'COMPLETE'
  eventTime: string
  producer: string
  schemaURL: string
  run: { runId: string }
  job: {
    namespace: string
    name: string
    facets: {
      jobType: {
        _producer: string
        _schemaURL: string
        processingType: 'STREAMING'
        integration: string
        jobType: string
      }
    }
  }
  inputs: Dataset[]
  outputs: Dataset[]
}

export interface RunEventOptions {
  namespace: string
  /** A UUID for the flow version (see `versionRunId`). */
  runId: string
  /** When the version was saved (ISO). */
  eventTime: string
}

export function openLineageEvent(
  flow: FlowDocument,
  outputs: readonly OutputLineage[],
  options: RunEventOptions,
): RunEvent {
  const { namespace } = options
  const webhook = `hooks/${flow.trigger.path}`
  const datasetOf = (source: FieldSource) => (source.response ? `${flow.id}/${source.response}/response` : webhook)
  const inputField = (source: FieldSource, transformation: Transformation): InputField => ({
    namespace,
    name: datasetOf(source),
    field: source.field,
    transformations: [transformation],
  })

  const read = new Map<string, Set<string>>([[webhook, new Set()]])
  const note = (source: FieldSource) => {
    const fields = read.get(datasetOf(source)) ?? new Set<string>()
    fields.add(source.field)
    read.set(datasetOf(source), fields)
  }

  const outputDatasets: Dataset[] = outputs.map((output) => {
    const direct: Transformation = {
      type: 'DIRECT',
      subtype: 'TRANSFORMATION',
      description: describeOutput(flow, output),
      masking: false,
    }
    const fields: ColumnLineageFacet['fields'] = {}
    for (const [field, sources] of Object.entries(output.fields)) {
      sources.forEach(note)
      fields[field] = { inputFields: sources.map((source) => inputField(source, direct)) }
    }
    output.conditions.forEach(note)
    return {
      namespace,
      name: `${flow.id}/${output.node}`,
      facets: {
        schema: schemaFacet(Object.keys(output.fields)),
        columnLineage: {
          _producer: OPENLINEAGE_PRODUCER,
          _schemaURL: COLUMN_LINEAGE_FACET_URL,
          fields,
          dataset: output.conditions.map((source) => inputField(source, indirect(source))),
        },
      },
    }
  })

  const event: RunEvent = {
    eventType: 'COMPLETE',
    eventTime: options.eventTime,
    producer: OPENLINEAGE_PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: { runId: options.runId },
    job: {
      namespace,
      name: flow.id,
      facets: {
        jobType: {
          _producer: OPENLINEAGE_PRODUCER,
          _schemaURL: JOB_TYPE_FACET_URL,
          processingType: 'STREAMING',
          integration: 'MAPPER_STUDIO',
          jobType: 'FLOW',
        },
      },
    },
    inputs: [...read].map(([name, fields]) => ({
      namespace,
      name,
      facets: { schema: schemaFacet([...fields].sort()) },
    })),
    outputs: outputDatasets,
  }
  return event
}

function indirect(source: ConditionSource): Transformation {
  return source.by === 'branch'
    ? { type: 'INDIRECT', subtype: 'CONDITIONAL', description: 'branch condition', masking: false }
    : { type: 'INDIRECT', subtype: 'FILTER', description: 'dedupe key', masking: false }
}

function describeOutput(flow: FlowDocument, output: OutputLineage): string {
  const node = flow.nodes.find((n) => n.id === output.node)
  if (output.kind === 'http') {
    const method = typeof node?.config.method === 'string' ? node.config.method : 'POST'
    return `request body of ${method} ${String(node?.config.url ?? '')} (node ${output.node})`
  }
  if (output.kind === 'respond') return `answer body of node ${output.node}`
  return `JSONata mapping of node ${output.node}`
}

function schemaFacet(fields: readonly string[]): SchemaFacet {
  return { _producer: OPENLINEAGE_PRODUCER, _schemaURL: SCHEMA_FACET_URL, fields: fields.map((name) => ({ name })) }
}
