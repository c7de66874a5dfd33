/** @module How fuzz answers are judged and reported: what fails a run, what is only worth a look. */
import { describe, expect, it } from 'vitest'
import { expectAnswer } from '../../runtime/fuzz/expectation.ts'
import { flowGuards } from '../../runtime/fuzz/flow-guards.ts'
import { formatFuzzReport, summarizeFuzz } from '../../runtime/fuzz/fuzz-report.ts'
import type { FuzzVariant } from '../../runtime/fuzz/variant.ts'
import { judge, namesFieldPath } from '../../runtime/fuzz/verdict.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { readFlow } from '../support/paths.ts'

function variant(body: string | Uint8Array, extra: Partial<FuzzVariant> = {}): FuzzVariant {
  return {
    index: 0,
    family: 'missing-field',
    description: 'drop /type',
    body: typeof body === 'string' ? Buffer.from(body) : body,
    contentType: 'application/json',
    target: '/type',
    ...extra,
  }
}

const schemaReject = (path: string, rule = 'required') => ({
  status: 422,
  code: 'schema_reject',
  details: [{ path, rule, message: 'is required but missing' }],
  ms: 1,
})

describe('judge', () => {
  it('fails a 5xx and a request that got no answer', () => {
    expect(judge(variant('{}'), { status: 500, code: 'internal', ms: 1 })).toMatchObject({
      ok: false,
      problem: 'server error 500 internal',
    })
    expect(judge(variant('{}'), { code: 'ECONNRESET', ms: 1 })).toMatchObject({
      ok: false,
      problem: 'no answer (ECONNRESET)',
    })
  })

  it('passes a 422 that names the field and fails one that names none', () => {
    expect(judge(variant('{}'), schemaReject('/type'))).toMatchObject({ ok: true, paths: ['/type'] })
    const twice = { ...schemaReject('/id'), details: [...schemaReject('/id').details, ...schemaReject('/id').details] }
    expect(judge(variant('{}'), twice)).toMatchObject({ ok: true, paths: ['/id'] })
    expect(judge(variant('{}'), { status: 422, code: 'schema_reject', ms: 1 })).toMatchObject({
      ok: false,
      problem: '422 without details naming a field path',
    })
    expect(judge(variant('{}'), schemaReject('', 'dedupeKey'))).toMatchObject({
      ok: false,
      problem: '422 detail without a field path (path "")',
    })
  })

  it('counts the empty pointer as a path only for a type error of the whole body', () => {
    expect(namesFieldPath({ path: '', rule: 'type' })).toBe(true)
    expect(namesFieldPath({ path: '', rule: 'const' })).toBe(false)
    expect(namesFieldPath({ path: '/data/jobId', rule: 'required' })).toBe(true)
    expect(namesFieldPath({ rule: 'required' })).toBe(false)
  })

  it('notes, without failing, an answer the flow schema did not expect', () => {
    const accepted = judge(variant('{}'), { status: 202, ms: 1 }, { kind: 'reject', status: 422, paths: ['/type'] })
    expect(accepted).toMatchObject({ ok: true, note: 'expected 422 at /type, the runtime accepted it' })
    const elsewhere = judge(variant('{}'), schemaReject('/id'), { kind: 'reject', status: 422, paths: ['/type'] })
    expect(elsewhere).toMatchObject({ ok: true, note: "names /id; the flow's schema names /type" })
    expect(judge(variant('{}'), schemaReject('/type'), { kind: 'reject', status: 422, paths: ['/type'] }).note).toBe(
      undefined,
    )
  })
})

describe('expectAnswer', () => {
  const check = (payload: unknown) =>
    (payload as { type?: unknown }).type === undefined
      ? [{ path: '/type', rule: 'required', message: 'is required but missing' }]
      : []

  it('expects 413 over the limit, 400 for bytes that are not UTF-8 JSON, else what the schema says', () => {
    expect(expectAnswer(variant('{"type":"a"}'), 5, check)).toEqual({ kind: 'reject', status: 413 })
    expect(expectAnswer(variant(Uint8Array.from([0x7b, 0xff, 0x7d])), 100, check)).toEqual({
      kind: 'reject',
      status: 400,
    })
    expect(expectAnswer(variant('{"type":'), 100, check)).toEqual({ kind: 'reject', status: 400 })
    expect(expectAnswer(variant('\ufeff{"type":"a"}'), 100, check)).toEqual({ kind: 'reject', status: 400 })
    expect(expectAnswer(variant(`{"type":${'['.repeat(300)}${']'.repeat(300)}}`), 10_000, check)).toEqual({
      kind: 'reject',
      status: 400,
    })
    expect(expectAnswer(variant('{}'), 100, check)).toEqual({ kind: 'reject', status: 422, paths: ['/type'] })
    expect(expectAnswer(variant('{"type":"a"}'), 100, check)).toEqual({ kind: 'accept' })
    expect(expectAnswer(variant('{"type":"a"}'), 100, undefined)).toEqual({ kind: 'unknown' })
  })
})

describe('flowGuards', () => {
  it('finds the verify and validate nodes a delivery meets first in the example flows', () => {
    const conduit = flowGuards(readFlow('conduit-reports') as FlowDocument)
    expect([conduit.verify?.id, conduit.validate?.id]).toEqual(['verify', 'validate'])
    const video = flowGuards(readFlow('video-generation') as FlowDocument)
    expect([video.verify?.id, video.validate?.id]).toEqual(['auth', 'validate'])
  })
})

describe('the fuzz report', () => {
  it('sums answers by family and fails the run on a failed variant or an unhealthy server', () => {
    const outcomes = [
      judge(variant('{}'), schemaReject('/type')),
      judge(variant('x', { index: 1, family: 'truncated-json', description: 'cut' }), {
        status: 400,
        code: 'malformed_json',
        ms: 1,
      }),
      judge(variant('x', { index: 2, family: 'truncated-json', description: 'cut again' }), {
        status: 502,
        ms: 1,
      }),
    ]
    const meta = { flow: 'f@1', url: 'http://x/hooks/f', seed: '1', durationMs: 10, healthy: true }
    const report = summarizeFuzz(meta, outcomes)
    expect(report.families).toEqual([
      { family: 'missing-field', sent: 1, byStatus: { 422: 1 }, failures: 0, notes: 0 },
      { family: 'truncated-json', sent: 2, byStatus: { 400: 1, 502: 1 }, failures: 1, notes: 0 },
    ])
    expect(report.ok).toBe(false)
    const text = formatFuzzReport(report, { verbose: true })
    expect(text).toContain('FAILED (1):')
    expect(text).toContain('→ server error 502')
    expect(text).toContain('422 schema_reject /type')
    expect(summarizeFuzz({ ...meta, healthy: false }, outcomes.slice(0, 2)).ok).toBe(false)
    expect(summarizeFuzz(meta, outcomes.slice(0, 2)).ok).toBe(true)
  })
})
