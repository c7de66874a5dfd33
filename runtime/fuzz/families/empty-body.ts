/** @module Fuzz family `empty-body`: no body, whitespace, and bare JSON values that are not an event. */
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

const BODIES: Array<[string, string]> = [
  ['no body at all', ''],
  ['one space', ' '],
  ['a newline', '\n'],
  ['mixed whitespace', '\r\n\t '],
  ['null', 'null'],
  ['0', '0'],
  ['an empty string ""', '""'],
  ['an empty array []', '[]'],
  ['an empty object {}', '{}'],
  ['true', 'true'],
  ['a NUL character', '\u0000'],
  ['an array of empty objects', '[{},{}]'],
]

export function emptyBody(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (const type of [JSON_CONTENT_TYPE, null]) {
    for (const [label, body] of BODIES) {
      candidates.push(() => ({
        family: 'empty-body',
        description: `${label}${type === null ? ', no content-type' : ''}`,
        body: utf8(body),
        contentType: type,
      }))
    }
  }
  return choose(candidates, input.count, input.random)
}
