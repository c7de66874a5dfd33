/** @module The flow document's JSON Schema (written to schemas/flow.schema.json). Browser-safe. */
import { type TSchema, Type } from '@sinclair/typebox'
import type { NodeKind } from './node-kind.ts'

export const FLOW_ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$'
export const NODE_ID_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$'
export const TRIGGER_PATH_PATTERN = '^[a-z0-9][a-z0-9._~-]*(/[a-z0-9][a-z0-9._~-]*)*$'

export const flowNodeSchema = Type.Object(
  {
    id: Type.String({ pattern: NODE_ID_PATTERN }),
    kind: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    config: Type.Object({}, { additionalProperties: true }),
    position: Type.Optional(Type.Object({ x: Type.Number(), y: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
)

export const flowEdgeSchema = Type.Object(
  {
    from: Type.String({ minLength: 1 }),
    port: Type.String({ minLength: 1 }),
    to: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
)

export const flowDocumentSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    id: Type.String({ pattern: FLOW_ID_PATTERN, description: 'a slug; the file is flows/<id>.flow.json' }),
    version: Type.Integer({ minimum: 1 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    trigger: Type.Object(
      {
        path: Type.String({ pattern: TRIGGER_PATH_PATTERN, description: 'served at POST /hooks/<path>' }),
        respond: Type.Optional(Type.Union([Type.Literal('accepted'), Type.Literal('completed')])),
        maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 104_857_600 })),
        rateLimit: Type.Optional(
          Type.Object(
            { perSecond: Type.Number({ exclusiveMinimum: 0 }), burst: Type.Optional(Type.Integer({ minimum: 1 })) },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    retention: Type.Optional(
      Type.Object(
        {
          rawPayloadDays: Type.Optional(Type.Number({ minimum: 0 })),
          redact: Type.Optional(Type.Array(Type.String({ pattern: '^\\$(\\.[^.]+)+$' }))),
        },
        { additionalProperties: false },
      ),
    ),
    nodes: Type.Array(flowNodeSchema, { minItems: 1 }),
    edges: Type.Array(flowEdgeSchema),
  },
  { additionalProperties: false },
)

/** The schema file users' editors validate against: the document, plus each kind's config. */
export function flowSchemaFile(kinds: readonly NodeKind[]): object {
  const kindConfigs = kinds.map((kind) => ({
    if: { properties: { kind: { const: kind.kind } }, required: ['kind'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
    then: { properties: { config: stripTypeBox(kind.config) } },
  }))
  const document = stripTypeBox(flowDocumentSchema) as { properties: Record<string, unknown> }
  const nodes = document.properties.nodes as { items: Record<string, unknown> }
  nodes.items = {
    ...nodes.items,
    allOf: [...kindConfigs, { properties: { kind: { enum: kinds.map((k) => k.kind) } } }],
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://mapper.studio/schemas/flow.schema.json',
    title: 'Mapper Studio flow document',
    ...document,
  }
}

/** TypeBox keeps its own symbols on schemas; JSON round-trip leaves the plain JSON Schema. */
export function stripTypeBox(schema: TSchema | object): object {
  return JSON.parse(JSON.stringify(schema)) as object
}
