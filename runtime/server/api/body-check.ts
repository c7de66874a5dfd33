/** @module Checks a request body against its route's JSON Schema: a 400 that names the field, never the value. */
import type { ErrorObject, ValidateFunction } from 'ajv'
import { createAjv, toValidationIssues } from '../../model/ajv.ts'
import { ApiError } from './route.ts'

const ajv = createAjv()

/** A checker for one route's `body` schema, compiled once; returns the body typed, or throws the 400. */
export function bodyChecker<T>(schema: object): (body: unknown) => T {
  const validate: ValidateFunction<T> = ajv.compile<T>(schema)
  return function checkBody(body) {
    if (!validate(body)) throw invalidBody(validate.errors)
    return body
  }
}

/** `role: must be one of viewer, editor, operator, admin`; every issue in `details` as `{path, rule, message}`. */
export function invalidBody(errors: readonly ErrorObject[] | null | undefined): ApiError {
  const issues = (errors ?? [])
    .filter((error) => error.keyword !== 'if')
    .flatMap((error) => {
      const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues
      return toValidationIssues([error]).map((issue) =>
        error.keyword === 'enum' && allowed ? { ...issue, message: `must be one of ${allowed.join(', ')}` } : issue,
      )
    })
  const first = issues[0]
  const field = first?.path.replace(/^\//, '').replace(/\//g, '.') || 'body'
  return new ApiError(400, 'invalid_body', `${field}: ${first?.message ?? 'is not valid'}`, issues)
}
