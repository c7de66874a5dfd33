/** @module Fuzz family `truncated-json`: a body cut short at many places, and near-JSON that is not JSON. */
import { utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** Text that looks like JSON to a person and is not: what hand-written senders and other languages emit. */
function nearJson(text: string): Array<[string, string]> {
  return [
    ['a trailing comma', text.replace(/}$/, ',}')],
    ["single quotes (JSON5, Python's repr)", text.replace(/"/g, "'")],
    ['a comment', `/* sent by fuzz */${text}`],
    ['NaN as a value', text.replace(/}$/, ',"n":NaN}')],
    ['Infinity as a value', text.replace(/}$/, ',"n":Infinity}')],
    ['unquoted key', text.replace(/^{"([^"]+)"/, '{$1')],
    ['two documents', `${text}${text}`],
    ['a JSON-lines pair', `${text}\n${text}\n`],
    ['trailing garbage', `${text}garbage`],
    ['leading garbage', `)]}'\n${text}`],
    ['an unterminated string', text.replace(/"([^"]*)"}*$/, '"$1')],
    ['hex number 0x10', text.replace(/}$/, ',"n":0x10}')],
    ['leading zeros 007', text.replace(/}$/, ',"n":007}')],
  ]
}

export function truncatedJson(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    for (const pretty of [false, true]) {
      const text = JSON.stringify(input.base(n), null, pretty ? 2 : undefined)
      const cuts = new Set([
        1,
        2,
        3,
        Math.floor(text.length / 4),
        Math.floor(text.length / 2),
        text.length - 2,
        text.length - 1,
      ])
      for (let i = 0; i < 8; i++) cuts.add(1 + input.random.int(text.length - 1))
      for (const at of [...cuts].sort((a, b) => a - b)) {
        if (at <= 0 || at >= text.length) continue
        candidates.push(() => ({
          family: 'truncated-json',
          description: `${pretty ? 'indented' : 'compact'} body cut after ${at} of ${text.length} characters`,
          body: utf8(JSON.stringify(input.base(n), null, pretty ? 2 : undefined).slice(0, at)),
          contentType: JSON_CONTENT_TYPE,
        }))
      }
    }
    for (const [label] of nearJson('{}')) {
      candidates.push(() => {
        const body = nearJson(JSON.stringify(input.base(n))).find(([l]) => l === label)?.[1] ?? ''
        return {
          family: 'truncated-json',
          description: `not JSON: ${label}`,
          body: utf8(body),
          contentType: JSON_CONTENT_TYPE,
        }
      })
    }
  }
  return choose(candidates, input.count, input.random)
}
