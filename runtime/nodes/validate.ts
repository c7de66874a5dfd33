/** @module validate — checks the JSON payload against a JSON Schema from `schemas/` or inline. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind } from '../model/node-kind.ts'
import { StepError } from '../model/step-error.ts'

/** `conduit/report.completed.v1` → `schemas/conduit/report.completed.v1.schema.json`. */
export const SCHEMA_REF_PATTERN = '^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9._-]*)*\\.v[0-9]+$'

export const validate = defineNodeKind({
  kind: 'validate',
  title: 'Validate schema',
  description: 'Validates the payload against a JSON Schema; every error names the field path and the rule.',
  phase: 'guard',
  color: '#0891b2',
  config: Type.Object(
    {
      schema: Type.Union(
        [
          Type.String({
            pattern: SCHEMA_REF_PATTERN,
            title: 'Schema reference',
            description: 'conduit/report.completed.v1',
          }),
          Type.Object({}, { additionalProperties: true, title: 'Inline JSON Schema' }),
        ],
        { title: 'Schema' },
      ),
    },
    { additionalProperties: false },
  ),
  defaults: { schema: { type: 'object' } },
  ports: () => ({ ok: { title: 'valid' }, invalid: { title: 'invalid', error: ['schema_reject'] } }),
  compileTargets: (config) => [{ type: 'schema', field: 'schema', schema: config.schema }],
  async run(config, ctx) {
    const issues = ctx.validate(config.schema, ctx.input)
    if (issues.length === 0) return { port: 'ok' }
    const first = issues[0]
    const summary = first ? `${first.path || '/'} ${first.message}` : 'invalid'
    throw new StepError('schema_reject', `payload does not match the schema: ${summary}`, { details: issues })
  },
})
