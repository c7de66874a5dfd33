/** @module Finds secret values written into a node's config, where only `{ "ref": "NAME" }` belongs. Browser-safe. */

export interface LiteralSecret {
  field: string
  message: string
}

/** Keys whose string values are credentials (an http header named x-api-key, say). */
const SENSITIVE_KEY = /(authorization|api[-_]?key|token|secret|password|passwd|signature|cookie|credential)/i

/** Values that are credentials wherever they stand, even inside an expression. */
const SECRET_VALUE_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/whsec_[A-Za-z0-9+/=]{16,}/, 'a whsec_ signing secret'],
  [/\b[sr]k_(live|test)_[A-Za-z0-9]{8,}/, 'an API secret key'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/, 'a bearer token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key'],
]

type JsonSchema = {
  secretRef?: boolean
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  patternProperties?: Record<string, JsonSchema>
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
}

export function findLiteralSecrets(schema: object, config: unknown): LiteralSecret[] {
  const found: LiteralSecret[] = []
  walk(schema as JsonSchema, config, '', '', found)
  return found
}

function walk(schema: JsonSchema | undefined, value: unknown, path: string, key: string, found: LiteralSecret[]) {
  if (typeof value === 'string') {
    checkString(schema, value, path, key, found)
    return
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(schema?.items, item, `${path}[${index}]`, key, found)
    return
  }
  if (value === null || typeof value !== 'object') return
  for (const [childKey, child] of Object.entries(value)) {
    walk(childSchema(schema, childKey), child, path ? `${path}.${childKey}` : childKey, childKey, found)
  }
}

function checkString(schema: JsonSchema | undefined, value: string, path: string, key: string, found: LiteralSecret[]) {
  const wantsRef = schema?.secretRef === true || (schema?.anyOf ?? schema?.oneOf ?? []).some((s) => s.secretRef)
  if (wantsRef && (schema?.secretRef === true || SENSITIVE_KEY.test(key))) {
    found.push({ field: path, message: 'holds a secret value; use a secret reference { "ref": "NAME" } instead' })
    return
  }
  const pattern = SECRET_VALUE_PATTERNS.find(([regex]) => regex.test(value))
  if (pattern) {
    found.push({
      field: path,
      message: `contains ${pattern[1]}; keep it in the secret store and use { "ref": "NAME" }`,
    })
  }
}

function childSchema(schema: JsonSchema | undefined, key: string): JsonSchema | undefined {
  if (!schema) return undefined
  const direct = schema.properties?.[key]
  if (direct) return direct
  for (const [pattern, child] of Object.entries(schema.patternProperties ?? {})) {
    if (new RegExp(pattern).test(key)) return child
  }
  if (typeof schema.additionalProperties === 'object') return schema.additionalProperties
  for (const branch of schema.anyOf ?? schema.oneOf ?? []) {
    const found = childSchema(branch, key)
    if (found) return found
  }
  return undefined
}
