/** @module Fuzz family `extra-field`: a field the schema does not declare, with odd names, and a repeated key. */
import { getAt, type JsonPath, objectPaths, toPointer, withValueAt } from '../json-paths.ts'
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** Names that trip code which treats a payload as a plain object or a path. */
const NAMES = [
  'extra',
  'unexpected_field',
  '__proto__',
  'constructor',
  'prototype',
  '$ref',
  '',
  ' ',
  'ключ',
  '🙂',
  'x'.repeat(300),
  'data.jobId',
  'a/b~c',
  '\u0000',
  '$event',
]
/** Values as JSON text, so `__proto__` is written as a key (assigning it in JavaScript would not be). */
const VALUES = ['"extra"', '1', 'null', 'true', '{"nested":{"deeper":[1,2,3]}}', '["a","b"]']

/** A placeholder key no payload has; its `"key":0` is replaced in the text. */
const PLACEHOLDER = 'mapper-fuzz-extra-field'

function withRawMember(value: unknown, objectPath: JsonPath, member: string): string {
  const text = JSON.stringify(withValueAt(value, [...objectPath, PLACEHOLDER], 0))
  return text.replace(`${JSON.stringify(PLACEHOLDER)}:0`, member)
}

export function extraField(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    const sample = input.base(n)
    for (const path of objectPaths(sample)) {
      const where = toPointer(path) || '(the body)'
      NAMES.forEach((name, i) => {
        const raw = VALUES[(i + path.length) % VALUES.length] as string
        candidates.push(() => ({
          family: 'extra-field',
          description: `${where}: add ${JSON.stringify(name.length > 20 ? `${name.slice(0, 12)}…(${name.length})` : name)}: ${raw}`,
          body: utf8(withRawMember(input.base(n), path, `${JSON.stringify(name)}:${raw}`)),
          contentType: JSON_CONTENT_TYPE,
          target: `${toPointer(path)}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        }))
      })
      const members = Object.keys((getAt(sample, path) as Record<string, unknown>) ?? {})
      for (const key of members) {
        candidates.push(() => ({
          family: 'extra-field',
          description: `${where}: repeat the key ${JSON.stringify(key)} with 12345 (last one wins in JSON.parse)`,
          body: utf8(withRawMember(input.base(n), path, `${JSON.stringify(key)}:12345`)),
          contentType: JSON_CONTENT_TYPE,
          target: `${toPointer(path)}/${key}`,
        }))
      }
    }
  }
  return choose(candidates, input.count, input.random)
}
