/** @module respond — the HTTP answer for flows whose trigger waits for completion. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind } from '../model/node-kind.ts'
import { jsonataSchema } from '../model/schema-helpers.ts'

export const respond = defineNodeKind({
  kind: 'respond',
  title: 'Respond',
  description: 'Answers the caller with a status and a body (flows with respond: completed).',
  phase: 'work',
  color: '#475569',
  config: Type.Object(
    {
      status: Type.Integer({ minimum: 100, maximum: 599, default: 200, title: 'Status' }),
      body: Type.Optional(jsonataSchema({ title: 'Body (JSONata)' })),
    },
    { additionalProperties: false },
  ),
  defaults: { status: 200 },
  ports: () => ({}),
  compileTargets: (config) =>
    config.body === undefined ? [] : [{ type: 'expression', field: 'body', source: config.body }],
  async run(config, ctx) {
    const body = config.body === undefined ? ctx.input : await ctx.evaluate(config.body)
    return { port: null, answer: { status: config.status, body: body ?? null } }
  },
})
