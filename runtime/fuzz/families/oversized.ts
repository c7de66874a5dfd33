/**
 * @module Fuzz family `oversized`: bodies from a few KiB to past the flow's `maxBodyBytes` — a long string
 * (ASCII, or two-byte characters, so bytes and characters differ), a long array, many keys, a huge number.
 */
import { getAt, type JsonPath, listPaths, toPointer } from '../json-paths.ts'
import { bodyAround, spliceRaw, utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** Bodies this large or larger are few: each is a megabyte to build and send. */
const LARGE_SHARE = 0.25

type Filler = 'ascii' | 'two-byte' | 'array' | 'keys' | 'number'

/**
 * JSON text of `bytes` bytes (to the byte when the filler allows) of one shape. A string filler starts with
 * `prefix` (the value it replaces, an id among them), so two variants stay two events for dedupe.
 */
function filler(kind: Filler, bytes: number, prefix = ''): string {
  const n = Math.max(0, bytes)
  const start = /^[\x20-\x7e]*$/.test(prefix) && !/["\\]/.test(prefix) && prefix.length + 2 <= n ? prefix : ''
  switch (kind) {
    case 'ascii':
      return `"${start}${'a'.repeat(Math.max(0, n - 2 - start.length))}"`
    case 'two-byte': {
      const chars = Math.max(0, n - 2 - start.length)
      return `"${start}${'é'.repeat(Math.floor(chars / 2))}${chars % 2 ? 'a' : ''}"`
    }
    case 'array': {
      const items = Math.max(0, Math.floor((n - 1) / 2))
      const text = `[${Array.from({ length: items }, () => '0').join(',')}]`
      return text.length < n ? `${text.slice(0, -1)}${' '.repeat(n - text.length)}]` : text
    }
    case 'keys': {
      const parts: string[] = []
      let size = 2
      for (let i = 0; size < n - 12; i++) {
        const member = `"k${i}":${i % 10}`
        parts.push(member)
        size += member.length + 1
      }
      const text = `{${parts.join(',')}}`
      return text.length < n ? `${text.slice(0, -1)}${' '.repeat(n - text.length)}}` : text
    }
    case 'number':
      return `1${'0'.repeat(Math.max(0, n - 1))}`
  }
}

function human(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1048576).toFixed(2)} MiB`
    : bytes >= 1024
      ? `${Math.round(bytes / 1024)} KiB`
      : `${bytes} B`
}

export function oversized(input: FamilyInput): DraftVariant[] {
  const max = input.maxBodyBytes
  const sizes = [
    { label: 'a few KiB', total: 4096 },
    { label: '64 KiB', total: 65_536 },
    { label: 'a quarter of the limit', total: Math.floor(max / 4) },
    { label: 'one byte under the limit', total: max - 1 },
    { label: 'exactly the limit', total: max },
    { label: 'one byte over the limit', total: max + 1 },
    { label: 'twice the limit', total: max * 2 },
  ].filter((size, i, all) => size.total > 0 && all.findIndex((s) => s.total === size.total) === i)
  const small: Candidate[] = []
  const large: Candidate[] = []
  const fillers: Filler[] = ['ascii', 'two-byte', 'array', 'keys', 'number']
  for (let n = 0; n < input.samples; n++) {
    const sample = input.base(n)
    const paths: JsonPath[] = listPaths(sample).filter((path) => typeof getAt(sample, path) !== 'object')
    if (paths.length === 0) paths.push([])
    for (const size of sizes) {
      paths.forEach((path, p) => {
        const kind = fillers[(p + n) % fillers.length] as Filler
        const make: Candidate = () => {
          const base = input.base(n)
          const { before, after } = bodyAround(base, path)
          const frame = utf8(before).length + utf8(after).length
          const kept = getAt(base, path)
          return {
            family: 'oversized',
            description: `${toPointer(path) || '(the body)'} = ${kind} filler, body ${size.label} (${human(size.total)})`,
            body: spliceRaw(base, path, filler(kind, size.total - frame, typeof kept === 'string' ? kept : '')),
            contentType: JSON_CONTENT_TYPE,
            target: toPointer(path),
          }
        }
        if (size.total >= max / 4) large.push(make)
        else small.push(make)
      })
    }
  }
  const largeCount = Math.min(large.length, Math.max(1, Math.round(input.count * LARGE_SHARE)))
  return [
    ...choose(large, largeCount, input.random),
    ...choose(small, Math.max(0, input.count - largeCount), input.random),
  ]
}
