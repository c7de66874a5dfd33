/** @module branch — routes by ordered JSONata cases, or by the category of an incoming error. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind, type PortMap } from '../model/node-kind.ts'
import { jsonataSchema, stringEnum } from '../model/schema-helpers.ts'
import { ERROR_CATEGORIES } from '../model/types.ts'

export const OTHERWISE = 'otherwise'
const PORT_NAME = '^[a-z][a-z0-9_-]*$'

export const branch = defineNodeKind({
  kind: 'branch',
  title: 'Branch',
  description: 'Sends the payload out of the first case whose condition holds, else out of “otherwise”.',
  phase: 'guard',
  color: '#db2777',
  config: Type.Union(
    [
      Type.Object(
        {
          cases: Type.Array(
            Type.Object(
              {
                port: Type.String({ pattern: PORT_NAME, title: 'Port' }),
                when: jsonataSchema({ title: 'When (JSONata)' }),
              },
              { additionalProperties: false },
            ),
            { minItems: 1, title: 'Cases' },
          ),
        },
        { additionalProperties: false, title: 'By condition' },
      ),
      Type.Object(
        { by: stringEnum(['errorCategory'] as const, { title: 'Route by', default: 'errorCategory' }) },
        { additionalProperties: false, title: 'By error category' },
      ),
    ],
    { title: 'Routing' },
  ),
  defaults: { cases: [{ port: 'yes', when: 'true' }] },
  ports(config): PortMap {
    const names = 'cases' in config ? config.cases.map((c) => c.port) : [...ERROR_CATEGORIES]
    const ports: PortMap = {}
    for (const name of names) ports[name] = { title: name }
    ports[OTHERWISE] = { title: OTHERWISE }
    return ports
  },
  compileTargets: (config) =>
    'cases' in config
      ? config.cases.map((c, i) => ({ type: 'expression' as const, field: `cases[${i}].when`, source: c.when }))
      : [],
  async run(config, ctx) {
    if ('by' in config) return { port: ctx.error?.category ?? OTHERWISE }
    for (const c of config.cases) {
      if (isTruthy(await ctx.evaluate(c.when))) return { port: c.port }
    }
    return { port: OTHERWISE }
  },
})

/** JSONata's notion of truth: empty arrays, empty strings, 0, null and undefined are false. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isTruthy)
  return Boolean(value)
}
