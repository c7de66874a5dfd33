/**
 * @module The OpenLineage shapes the tests check answers against, transcribed (draft-07) from the spec's own
 * schemas: RunEvent (spec 2-0-2), DatasetFacet base fields, and ColumnLineageDatasetFacet 1-2-0
 * (https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json), written independently of the product.
 */
import { Ajv } from 'ajv'

const uuid = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

const facetBase = {
  type: 'object',
  required: ['_producer', '_schemaURL'],
  properties: { _producer: { type: 'string', minLength: 1 }, _schemaURL: { type: 'string', minLength: 1 } },
}

const inputField = {
  type: 'object',
  required: ['namespace', 'name', 'field'],
  properties: {
    namespace: { type: 'string' },
    name: { type: 'string' },
    field: { type: 'string' },
    transformations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { enum: ['DIRECT', 'INDIRECT'] },
          subtype: { type: 'string' },
          description: { type: 'string' },
          masking: { type: 'boolean' },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
}

export const columnLineageFacetSchema = {
  allOf: [
    facetBase,
    {
      type: 'object',
      required: ['fields'],
      properties: {
        _schemaURL: {
          const:
            'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
        },
        fields: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['inputFields'],
            properties: {
              inputFields: { type: 'array', items: inputField },
              transformationDescription: { type: 'string' },
              transformationType: { type: 'string' },
            },
            additionalProperties: false,
          },
        },
        dataset: { type: 'array', items: inputField },
      },
    },
  ],
}

const dataset = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: {
    namespace: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    facets: { type: 'object', additionalProperties: facetBase },
  },
}

export const runEventSchema = {
  type: 'object',
  required: ['eventTime', 'producer', 'schemaURL', 'run', 'job'],
  properties: {
    eventType: { enum: ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] },
    eventTime: { type: 'string', format: 'date-time' },
    producer: { type: 'string', format: 'uri' },
    schemaURL: { type: 'string', format: 'uri' },
    run: { type: 'object', required: ['runId'], properties: { runId: { type: 'string', pattern: uuid } } },
    job: {
      type: 'object',
      required: ['namespace', 'name'],
      properties: { namespace: { type: 'string' }, name: { type: 'string' } },
    },
    inputs: { type: 'array', items: dataset },
    outputs: {
      type: 'array',
      items: {
        allOf: [dataset, { properties: { facets: { properties: { columnLineage: columnLineageFacetSchema } } } }],
      },
    },
  },
}

/** Ajv errors of `event` against the RunEvent schema with the column lineage facet; [] when it conforms. */
export function openLineageErrors(event: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false })
  // A small date-time and uri check, so the schema needs no formats package.
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/)
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i)
  const validate = ajv.compile(runEventSchema)
  return validate(event) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`)
}
