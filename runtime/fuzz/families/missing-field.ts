/** @module Fuzz family `missing-field`: a sample with one field (or two, or all) taken out. */
import { type JsonPath, listPaths, toPointer, withoutAt } from '../json-paths.ts'
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

function dropped(value: unknown, paths: readonly JsonPath[]): unknown {
  // Deepest first, so that taking one out does not shift the next (array items).
  return [...paths].sort((a, b) => b.length - a.length).reduce((current, path) => withoutAt(current, path), value)
}

export function missingField(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    const paths = listPaths(input.base(n))
    for (const path of paths) {
      candidates.push(() => ({
        family: 'missing-field',
        description: `drop ${toPointer(path)}`,
        body: utf8(JSON.stringify(dropped(input.base(n), [path]))),
        contentType: JSON_CONTENT_TYPE,
        target: toPointer(path),
      }))
    }
    candidates.push(() => ({
      family: 'missing-field',
      description: 'drop every field: {}',
      body: utf8('{}'),
      contentType: JSON_CONTENT_TYPE,
    }))
    for (let i = 0; i + 1 < paths.length; i++) {
      const pair: [JsonPath, JsonPath] = [paths[i] as JsonPath, paths[(i * 7 + 3) % paths.length] as JsonPath]
      if (toPointer(pair[0]) === toPointer(pair[1])) continue
      candidates.push(() => ({
        family: 'missing-field',
        description: `drop ${pair.map(toPointer).join(' and ')}`,
        body: utf8(JSON.stringify(dropped(input.base(n), pair))),
        contentType: JSON_CONTENT_TYPE,
        target: toPointer(pair[0]),
      }))
    }
  }
  return choose(candidates, input.count, input.random)
}
