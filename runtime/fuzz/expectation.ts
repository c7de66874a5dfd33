/**
 * @module What a flow should answer a variant, from the flow's own first schema check: 413 over the body
 * limit, 400 for a body that is not UTF-8 JSON (or nests too deep), 422 naming the schema's paths, else
 * accepted. Used for notes, never for the verdict.
 */
import type { ValidationIssue } from '../model/node-kind.ts'
import { MAX_BODY_NESTING, nestedDeeperThan } from '../server/hooks.ts'
import type { FuzzVariant } from './variant.ts'
import type { Expectation } from './verdict.ts'

/** Strict UTF-8 that keeps a byte order mark, as the runtime reads a body. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function expectAnswer(
  variant: FuzzVariant,
  maxBodyBytes: number,
  check: ((payload: unknown) => ValidationIssue[]) | undefined,
): Expectation {
  if (variant.body.length > maxBodyBytes) return { kind: 'reject', status: 413 }
  let text: string
  try {
    text = strictUtf8.decode(variant.body)
  } catch {
    return { kind: 'reject', status: 400 }
  }
  if (nestedDeeperThan(variant.body, MAX_BODY_NESTING)) return { kind: 'reject', status: 400 }
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    return { kind: 'reject', status: 400 }
  }
  if (!check) return { kind: 'unknown' }
  let issues: ValidationIssue[]
  try {
    issues = check(payload)
  } catch {
    return { kind: 'unknown' }
  }
  return issues.length === 0 ? { kind: 'accept' } : { kind: 'reject', status: 422, paths: issues.map((i) => i.path) }
}
