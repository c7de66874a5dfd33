/** @module transform — maps the payload with a JSONata expression and records field lineage. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind } from '../model/node-kind.ts'
import { jsonataSchema } from '../model/schema-helpers.ts'
import { StepError } from '../model/step-error.ts'

export const transform = defineNodeKind({
  kind: 'transform',
  title: 'Map (JSONata)',
  description:
    'Builds a new payload with a JSONata expression; every output field records the input fields it came from.',
  phase: 'work',
  color: '#16a34a',
  config: Type.Object({ expression: jsonataSchema({ title: 'Mapping (JSONata)' }) }, { additionalProperties: false }),
  defaults: { expression: '{\n  "id": id\n}' },
  ports: () => ({ ok: { title: 'mapped' }, error: { title: 'error', error: ['transform_error'] } }),
  compileTargets: (config) => [{ type: 'expression', field: 'expression', source: config.expression }],
  async run(config, ctx) {
    let output: unknown
    try {
      output = await ctx.evaluate(config.expression)
    } catch (cause) {
      throw new StepError('transform_error', `mapping failed: ${describeJsonataError(cause)}`, { cause })
    }
    return { port: 'ok', output: output ?? null, lineage: ctx.lineageOf(config.expression) }
  },
})

export function describeJsonataError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { message, code, position } = error as { message?: string; code?: string; position?: number }
    const where = position === undefined ? '' : ` at position ${position}`
    return `${code ? `${code}: ` : ''}${message ?? String(error)}${where}`
  }
  return String(error)
}
