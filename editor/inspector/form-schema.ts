/** @module A config schema as react-jsonschema-form draws it best: unions of constants become enums. */
import type { RJSFSchema } from '@rjsf/utils'

/**
 * TypeBox writes `Union([Literal('a'), Literal('b')])` as `anyOf` of `const`s, which rjsf cannot draw; the same
 * rule as `enum` reads as a select. Everything else is kept as the runtime validates it.
 */
export function formSchema(schema: unknown): RJSFSchema {
  return normalise(JSON.parse(JSON.stringify(schema))) as RJSFSchema
}

function normalise(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalise)
  if (node === null || typeof node !== 'object') return node
  const schema = node as Record<string, unknown>
  const options = schema.anyOf ?? schema.oneOf
  if (Array.isArray(options) && options.length > 0 && options.every((o) => isConst(o))) {
    const values = options.map((o) => (o as { const: unknown }).const)
    const { anyOf: _a, oneOf: _o, ...rest } = schema
    return { ...rest, type: typeof values[0] === 'number' ? 'number' : 'string', enum: values }
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) out[key] = normalise(value)
  return out
}

function isConst(option: unknown): boolean {
  return typeof option === 'object' && option !== null && 'const' in option
}
