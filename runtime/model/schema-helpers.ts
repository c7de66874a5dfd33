/** @module Small TypeBox builders shared by the node kinds' config schemas. Browser-safe. */
import { type TString, type TUnsafe, Type } from '@sinclair/typebox'
import type { SecretRef } from './types.ts'

/** A string that must be one of `values`; drawn by the editor as a select. */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  options: { title?: string; default?: T[number]; description?: string } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/** A reference to a secret held by the runtime's secret store; `secretRef: true` tells graph checks and the editor. */
export function secretRefSchema(options: { title?: string; description?: string } = {}): TUnsafe<SecretRef> {
  return Type.Unsafe<SecretRef>({
    type: 'object',
    secretRef: true,
    properties: { ref: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', title: 'Secret name' } },
    required: ['ref'],
    additionalProperties: false,
    ...options,
  })
}

/** A JSONata expression, compiled once per flow version. */
export function jsonataSchema(options: { title?: string; description?: string; default?: string } = {}): TString {
  return Type.String({ minLength: 1, format: 'jsonata', ...options })
}

/** A string with `{{expr}}` placeholders filled from JSONata expressions. */
export function templateSchema(options: { title?: string; description?: string; default?: string } = {}): TString {
  return Type.String({ minLength: 1, format: 'template', ...options })
}
