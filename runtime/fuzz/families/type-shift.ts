/** @module Fuzz family `type-shift`: one field (or the whole body) given a value of another JSON type. */
import { getAt, type JsonPath, jsonType, listPaths, toPointer, withValueAt } from '../json-paths.ts'
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** Values of every JSON type, with the edge cases a parser or a mapping trips on. */
function replacements(current: unknown): Array<[string, unknown]> {
  return [
    ['null', null],
    ['true', true],
    ['false', false],
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['1e308', 1e308],
    ['-0.000001', -0.000001],
    ['""', ''],
    ['"0"', '0'],
    ['"null"', 'null'],
    ['[]', []],
    ['{}', {}],
    ['[value]', [current]],
    ['{"value": value}', { value: current }],
  ]
}

export function typeShift(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    const sample = input.base(n)
    const paths: JsonPath[] = [[], ...listPaths(sample)]
    for (const path of paths) {
      const current = getAt(sample, path)
      const from = jsonType(current)
      for (const [label, value] of replacements(current)) {
        const to = jsonType(value)
        if (to === from || (from === 'integer' && to === 'number') || (from === 'number' && to === 'integer')) continue
        const where = toPointer(path) || '(the body)'
        candidates.push(() => ({
          family: 'type-shift',
          description: `${where}: ${from} → ${to} ${label}`,
          body: utf8(JSON.stringify(withValueAt(input.base(n), path, value))),
          contentType: JSON_CONTENT_TYPE,
          target: toPointer(path),
        }))
      }
    }
  }
  return choose(candidates, input.count, input.random)
}
