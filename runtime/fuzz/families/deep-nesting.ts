/** @module Fuzz family `deep-nesting`: arrays and objects nested from 8 to hundreds of thousands of levels. */
import { getAt, type JsonPath, listPaths, toPointer } from '../json-paths.ts'
import { bodyAround, nestedLength, nestedText, spliceRaw, utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** Depths around the limits of recursive code: a few hundred is plain, thousands overflow naive recursion. */
const DEPTHS = [8, 64, 500, 1_000, 2_000, 5_000, 10_000, 50_000, 200_000]
const CONTAINERS = ['array', 'object'] as const

export function deepNesting(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    const sample = input.base(n)
    const paths: JsonPath[] = [
      [],
      ...listPaths(sample).filter((path) => path.length === 1 || typeof getAt(sample, path) === 'object'),
      ['nested'],
    ]
    for (const depth of DEPTHS) {
      for (const container of CONTAINERS) {
        for (const path of paths) {
          const { before, after } = bodyAround(sample, path)
          // Past the body limit it would only be an oversized body: those have their own family.
          if (utf8(before).length + utf8(after).length + nestedLength(depth, container) > input.maxBodyBytes) continue
          const where = toPointer(path) || '(the body)'
          candidates.push(() => ({
            family: 'deep-nesting',
            description: `${where} = ${container}s nested ${depth} deep`,
            body:
              path.length === 0
                ? utf8(nestedText(depth, container))
                : spliceRaw(input.base(n), path, nestedText(depth, container)),
            contentType: JSON_CONTENT_TYPE,
            target: toPointer(path),
          }))
        }
      }
    }
  }
  return choose(candidates, input.count, input.random)
}
