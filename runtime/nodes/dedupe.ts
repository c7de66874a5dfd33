/** @module dedupe — claims a key per event; a second claim within the window is a duplicate. */
import { Type } from '@sinclair/typebox'
import { defineNodeKind } from '../model/node-kind.ts'
import { jsonataSchema } from '../model/schema-helpers.ts'
import { StepError } from '../model/step-error.ts'

export const DEFAULT_DEDUPE_TTL_SEC = 604_800

export const dedupe = defineNodeKind({
  kind: 'dedupe',
  title: 'Dedupe',
  description:
    'Claims a key computed from the event for a time window; later deliveries of the same key are duplicates.',
  phase: 'guard',
  color: '#d97706',
  config: Type.Object(
    {
      key: jsonataSchema({ title: 'Key expression', description: 'for example id, or $headers.`webhook-id`' }),
      ttlSec: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULT_DEDUPE_TTL_SEC, title: 'Window (s)' })),
    },
    { additionalProperties: false },
  ),
  defaults: { key: 'id', ttlSec: DEFAULT_DEDUPE_TTL_SEC },
  ports: () => ({ new: { title: 'new' }, duplicate: { title: 'duplicate' } }),
  compileTargets: (config) => [{ type: 'expression', field: 'key', source: config.key }],
  async run(config, ctx) {
    const value = await ctx.evaluate(config.key)
    if (value === undefined || value === null || value === '') {
      throw new StepError('schema_reject', 'the dedupe key expression gave no value', {
        details: [{ path: '', rule: 'dedupeKey', message: `the key expression ${config.key} gave no value` }],
      })
    }
    const key = typeof value === 'string' ? value : JSON.stringify(value)
    const claim = await ctx.claim(key, config.ttlSec ?? DEFAULT_DEDUPE_TTL_SEC)
    if (claim.claimed) return { port: 'new', note: { key } }
    return { port: 'duplicate', note: { key, firstEventId: claim.firstEventId } }
  },
})
