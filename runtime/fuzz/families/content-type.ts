/** @module Fuzz family `content-type`: a valid body under a wrong, odd or missing content-type, and form or XML bodies. */
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput } from '../variant.ts'

const TYPES: Array<string | null> = [
  null,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=mapper-fuzz',
  'application/xml',
  'application/octet-stream',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json; charset=iso-8859-1',
  'application/json, text/plain',
  'application/json; charset="utf-8"; extra=;;',
  'json',
]

function formEncoded(value: unknown): string {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { value }
  return Object.entries(record)
    .map(
      ([key, v]) => `${encodeURIComponent(key)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`,
    )
    .join('&')
}

export function contentType(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    for (const type of TYPES) {
      candidates.push(() => ({
        family: 'content-type',
        description: `valid JSON sent as ${type === null ? 'no content-type' : JSON.stringify(type)}`,
        body: utf8(JSON.stringify(input.base(n))),
        contentType: type,
      }))
    }
    candidates.push(
      () => ({
        family: 'content-type',
        description: 'a form-encoded body as application/x-www-form-urlencoded',
        body: utf8(formEncoded(input.base(n))),
        contentType: 'application/x-www-form-urlencoded',
      }),
      () => ({
        family: 'content-type',
        description: 'an XML body as application/xml',
        body: utf8(`<?xml version="1.0"?><event>${JSON.stringify(input.base(n)).replace(/[<&]/g, '')}</event>`),
        contentType: 'application/xml',
      }),
    )
  }
  return choose(candidates, input.count, input.random)
}
