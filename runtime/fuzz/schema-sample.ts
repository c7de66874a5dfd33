/**
 * @module Valid sample payloads made from a JSON Schema, for a flow whose sender's documents are not at hand:
 * one sample per value of a discriminator (`if: {properties: {type: {const: …}}}` in `allOf`), every
 * declared property filled from its const, enum, format, type and bounds. The caller checks each sample
 * with the real validator: a schema this cannot satisfy (an unusual pattern) asks for `--samples`.
 */

type Schema = Record<string, unknown>

/** Finds a schema by reference (`conduit/report.completed.v1`), as `schemas/` holds them. */
export type SchemaLoader = (ref: string) => object | undefined

const FIXED_TIME = '2026-01-17T12:05:00.000Z'
const MAX_DEPTH = 12

const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': FIXED_TIME,
  date: '2026-01-17',
  time: '12:05:00Z',
  uuid: '550e8400-e29b-41d4-a716-446655440000',
  uri: 'https://example.com/resource/1',
  'uri-reference': '/resource/1',
  url: 'https://example.com/resource/1',
  email: 'someone@example.com',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
}

function asSchema(value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : undefined
}

function resolve(schema: Schema, root: Schema, load: SchemaLoader, seen = 0): Schema {
  const ref = schema.$ref
  if (typeof ref !== 'string' || seen > MAX_DEPTH) return schema
  const [file, fragment] = ref.split('#') as [string, string | undefined]
  let target: unknown = file === '' ? root : load(file)
  for (const segment of (fragment ?? '').split('/').filter(Boolean)) target = asSchema(target)?.[segment]
  const found = asSchema(target)
  if (!found) throw new Error(`schema reference ${ref} cannot be resolved`)
  return resolve(found, file === '' ? root : found, load, seen + 1)
}

/** Whether a sample so far satisfies an `if` made of const/enum/required conditions on properties. */
function conditionHolds(condition: Schema, value: Record<string, unknown>): boolean {
  const required = Array.isArray(condition.required) ? (condition.required as string[]) : []
  if (required.some((key) => !(key in value))) return false
  const properties = asSchema(condition.properties) ?? {}
  return Object.entries(properties).every(([key, raw]) => {
    const rule = asSchema(raw) ?? {}
    if (!(key in value)) return true
    if ('const' in rule) return JSON.stringify(rule.const) === JSON.stringify(value[key])
    if (Array.isArray(rule.enum))
      return rule.enum.some((option) => JSON.stringify(option) === JSON.stringify(value[key]))
    return true
  })
}

/** The schemas that apply to one object: its own, its allOf, and every `then` whose `if` holds. */
function applicable(schema: Schema, root: Schema, load: SchemaLoader, forced: Record<string, unknown>): Schema[] {
  const list = [schema]
  for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
    const entry = asSchema(part)
    if (!entry) continue
    const condition = asSchema(entry.if)
    if (condition) {
      const then = asSchema(entry.then)
      if (then && conditionHolds(condition, forced))
        list.push(...applicable(resolve(then, root, load), root, load, forced))
    } else list.push(...applicable(resolve(entry, root, load), root, load, forced))
  }
  return list
}

function firstType(schema: Schema): string | undefined {
  if (typeof schema.type === 'string') return schema.type
  if (Array.isArray(schema.type)) return (schema.type as string[]).find((t) => t !== 'null') ?? 'null'
  if (schema.properties || schema.required) return 'object'
  if (schema.items) return 'array'
  return undefined
}

function sampleString(schema: Schema): string {
  const format = typeof schema.format === 'string' ? FORMAT_SAMPLES[schema.format] : undefined
  let text = format ?? 'sample'
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY
  if (format === undefined && text.length < min) text = text.padEnd(min, 'x')
  if (text.length > max) text = text.slice(0, max)
  return text
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined
  let n = min !== undefined && max !== undefined ? (min + max) / 2 : (min ?? (max === undefined ? 1 : max - 1))
  if (typeof schema.exclusiveMinimum === 'number' && n <= schema.exclusiveMinimum) n = schema.exclusiveMinimum + 1
  return integer ? Math.ceil(n) : n
}

function sampleValue(schema: Schema, root: Schema, load: SchemaLoader, depth: number, forced?: unknown): unknown {
  const own = resolve(schema, root, load)
  if (forced !== undefined) return forced
  if ('const' in own) return own.const
  if (Array.isArray(own.enum) && own.enum.length > 0) return own.enum[0]
  if ('default' in own) return own.default
  const anyOf = (Array.isArray(own.oneOf) ? own.oneOf : Array.isArray(own.anyOf) ? own.anyOf : []) as unknown[]
  const alternative = asSchema(anyOf[0])
  if (alternative && !firstType(own)) return sampleValue(alternative, root, load, depth)
  switch (firstType(own)) {
    case 'object':
      return depth > MAX_DEPTH ? {} : sampleObject(own, root, load, depth + 1, {})
    case 'array': {
      const items = asSchema(own.items) ?? {}
      const count = Math.max(1, typeof own.minItems === 'number' ? own.minItems : 1)
      return depth > MAX_DEPTH ? [] : Array.from({ length: count }, () => sampleValue(items, root, load, depth + 1))
    }
    case 'string':
      return sampleString(own)
    case 'integer':
      return sampleNumber(own, true)
    case 'number':
      return sampleNumber(own, false)
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      return 'sample'
  }
}

function sampleObject(
  schema: Schema,
  root: Schema,
  load: SchemaLoader,
  depth: number,
  forced: Record<string, unknown>,
): Record<string, unknown> {
  const parts = applicable(schema, root, load, forced)
  // A later schema (a `then`) is more specific than the base for the same property.
  const properties = new Map<string, Schema>()
  const required = new Set<string>()
  for (const part of parts) {
    for (const [key, rule] of Object.entries(asSchema(part.properties) ?? {})) properties.set(key, asSchema(rule) ?? {})
    for (const key of Array.isArray(part.required) ? (part.required as string[]) : []) required.add(key)
  }
  const value: Record<string, unknown> = {}
  for (const key of new Set([...properties.keys(), ...required])) {
    value[key] = sampleValue(properties.get(key) ?? {}, root, load, depth, forced[key])
  }
  return value
}

/** `[property, values]` of each discriminator the schema's `allOf`/`if` entries test on. */
function discriminators(schema: Schema): Array<[string, unknown[]]> {
  const found = new Map<string, unknown[]>()
  for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
    const condition = asSchema(asSchema(part)?.if)
    for (const [key, raw] of Object.entries(asSchema(condition?.properties) ?? {})) {
      const rule = asSchema(raw) ?? {}
      const values = 'const' in rule ? [rule.const] : Array.isArray(rule.enum) ? rule.enum : []
      found.set(key, [...(found.get(key) ?? []), ...values])
    }
  }
  return [...found]
}

/** Valid-looking payloads for a schema: one per discriminator value, or one when it has none. */
export function samplesFromSchema(schema: object, load: SchemaLoader): unknown[] {
  const root = resolve(schema as Schema, schema as Schema, load)
  const cases = discriminators(root)
  if (cases.length === 0 || firstType(root) !== 'object') return [sampleValue(root, root, load, 0)]
  const [key, values] = cases[0] as [string, unknown[]]
  return values.map((value) => sampleObject(root, root, load, 0, { [key]: value }))
}
