/** @module The one ajv setup used for flow documents, node configs and event schemas. Browser-safe. */
import { Ajv, type ErrorObject, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { ValidationIssue } from './node-kind.ts'

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped (in Node, not in Vite).
type AddFormats = typeof addFormatsModule.default
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats)

export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, ...options })
  addFormats(ajv)
  // Expressions are checked by the graph checks, which report the JSONata parser's own message.
  ajv.addFormat('jsonata', true)
  ajv.addFormat('template', true)
  ajv.addKeyword({ keyword: 'secretRef', schemaType: 'boolean' })
  return ajv
}

/** ajv errors as `{path, rule, message}`; a missing required field is reported at its own path. */
export function toValidationIssues(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  // `if` only says which `then` failed; the errors of that `then` follow and name the fields.
  return (errors ?? [])
    .filter((error) => error.keyword !== 'if')
    .map((error) => {
      const params = error.params as Record<string, unknown>
      if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
        return {
          path: `${error.instancePath}/${escapePointer(params.missingProperty)}`,
          rule: 'required',
          message: 'is required but missing',
        }
      }
      if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
        return {
          path: `${error.instancePath}/${escapePointer(params.additionalProperty)}`,
          rule: 'additionalProperties',
          message: 'is not allowed here',
        }
      }
      const message = error.message ?? error.keyword
      return { path: error.instancePath, rule: error.keyword, message: `${message} (got ${describeType(error.data)})` }
    })
}

/** The value's JSON type, so a schema error tells what arrived as well as what was expected. */
export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Number.isInteger(value)) return 'integer'
  return typeof value
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}
