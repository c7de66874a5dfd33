/**
 * @module How one fuzz answer is judged. A failure: no answer, a 5xx, or a 422 that names no field path.
 * A note (not a failure): an answer that differs from what the flow's own schema check expects.
 */
import type { FuzzVariant } from './variant.ts'

/** What came back for a variant. */
export interface FuzzAnswer {
  status?: number
  /** `error.code` of the answer, or the network error's code when there was no answer. */
  code?: string
  /** `error.details` of a 422: the schema errors. */
  details?: unknown
  ms: number
  /** 429/503 answers waited out and sent again. */
  retries?: number
}

/** What the local check of the flow's schemas expects: accepted, or refused with these paths. */
export type Expectation =
  | { kind: 'accept' }
  | { kind: 'reject'; status: 400 | 413 | 422; paths?: string[] }
  | { kind: 'unknown' }

export interface FuzzOutcome extends FuzzAnswer {
  index: number
  family: FuzzVariant['family']
  description: string
  target?: string
  bytes: number
  /** The field paths a 422 named. */
  paths?: string[]
  ok: boolean
  /** Why it failed. */
  problem?: string
  /** Something worth a look that is not a failure. */
  note?: string
}

interface Detail {
  path?: unknown
  rule?: unknown
}

/**
 * A detail names a field when its path is a JSON Pointer to one (`/data/jobId`); the empty pointer (the body
 * itself) counts only for a `type` error, where the body is what has the wrong type.
 */
export function namesFieldPath(detail: Detail): boolean {
  if (typeof detail.path !== 'string') return false
  return detail.path.startsWith('/') || (detail.path === '' && detail.rule === 'type')
}

function detailsOf(answer: FuzzAnswer): Detail[] {
  return Array.isArray(answer.details) ? (answer.details as Detail[]).filter((d) => typeof d === 'object' && d) : []
}

function related(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a)
  const right = new Set(b)
  return left.size === right.size && [...left].every((item) => right.has(item))
}

function noteFor(variant: FuzzVariant, answer: FuzzAnswer, expected: Expectation, paths: string[]): string | undefined {
  const status = answer.status as number
  if (expected.kind === 'accept' && status >= 400 && status !== 429)
    return `the flow's schema accepts this body, the runtime answered ${status}`
  if (expected.kind === 'reject' && status >= 200 && status < 300)
    return `expected ${expected.status}${expected.paths?.length ? ` at ${expected.paths.join(', ')}` : ''}, the runtime accepted it`
  if (status !== 422 || paths.length === 0) return undefined
  if (expected.kind === 'reject' && expected.paths && !sameSet(expected.paths, paths))
    return `names ${paths.join(', ')}; the flow's schema names ${expected.paths.join(', ')}`
  if (expected.kind === 'unknown' && variant.target && !paths.some((path) => related(path, variant.target as string)))
    return `names ${paths.join(', ')}, not the changed field ${variant.target}`
  return undefined
}

export function judge(
  variant: FuzzVariant,
  answer: FuzzAnswer,
  expected: Expectation = { kind: 'unknown' },
): FuzzOutcome {
  const base: FuzzOutcome = {
    index: variant.index,
    family: variant.family,
    description: variant.description,
    ...(variant.target === undefined ? {} : { target: variant.target }),
    bytes: variant.body.length,
    ...answer,
    ok: true,
  }
  delete base.details
  if (answer.status === undefined)
    return { ...base, ok: false, problem: `no answer (${answer.code ?? 'network error'})` }
  if (answer.status >= 500)
    return { ...base, ok: false, problem: `server error ${answer.status} ${answer.code ?? ''}`.trim() }
  const details = detailsOf(answer)
  const paths = [...new Set(details.filter(namesFieldPath).map((d) => d.path as string))]
  const outcome: FuzzOutcome = answer.status === 422 ? { ...base, paths } : base
  if (answer.status === 422 && (details.length === 0 || details.some((d) => !namesFieldPath(d)))) {
    const unnamed = details.filter((d) => !namesFieldPath(d)).map((d) => JSON.stringify(d.path ?? null))
    return {
      ...outcome,
      ok: false,
      problem:
        details.length === 0
          ? '422 without details naming a field path'
          : `422 detail without a field path (path ${unnamed.join(', ')})`,
    }
  }
  const note = noteFor(variant, answer, expected, paths)
  return note === undefined ? outcome : { ...outcome, note }
}
