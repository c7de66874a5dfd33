/**
 * @module Fuzz family `bad-unicode`: lone surrogates and odd characters in JSON strings, raw bytes that are
 * not UTF-8 inside a string, and whole bodies in another encoding.
 */
import { getAt, type JsonPath, listPaths, toPointer } from '../json-paths.ts'
import { bodyAround, concatBytes, utf8 } from '../raw-body.ts'
import { type Candidate, choose, type DraftVariant, type FamilyInput, JSON_CONTENT_TYPE } from '../variant.ts'

/** What goes between the quotes of a string value: JSON escapes (valid JSON, odd text) or raw bytes. */
interface Insert {
  label: string
  bytes: Uint8Array
}

const escaped = (label: string, text: string): Insert => ({ label, bytes: utf8(text) })
const raw = (label: string, ...bytes: number[]): Insert => ({
  label,
  bytes: concatBytes([utf8('a'), Uint8Array.from(bytes), utf8('b')]),
})

const INSERTS: Insert[] = [
  escaped('escaped lone high surrogate \\ud800', '\\ud800'),
  escaped('escaped lone low surrogate \\udfff', '\\udfff'),
  escaped('escaped surrogates in the wrong order', '\\udc00\\ud800'),
  escaped('escaped NUL \\u0000', 'a\\u0000b'),
  escaped('noncharacters U+FFFE U+FFFF', '\\ufffe\\uffff'),
  escaped('right-to-left override', '\\u202eevil'),
  escaped('500 combining accents', `e${'\u0301'.repeat(500)}`),
  escaped('emoji ZWJ sequence', '👩\u200d👩\u200d👧\u200d👦'),
  escaped('byte order mark inside', '\ufeffvalue'),
  raw('raw byte 0xFF (never UTF-8)', 0xff),
  raw('raw byte 0xFE', 0xfe),
  raw('overlong "/" C0 AF', 0xc0, 0xaf),
  raw('overlong E0 80 AF', 0xe0, 0x80, 0xaf),
  raw('UTF-8 encoded surrogate ED A0 80', 0xed, 0xa0, 0x80),
  raw('code point over U+10FFFF F4 90 80 80', 0xf4, 0x90, 0x80, 0x80),
  raw('truncated 4-byte sequence F0 9F 98', 0xf0, 0x9f, 0x98),
  raw('truncated 3-byte sequence E2 82', 0xe2, 0x82),
  raw('lone continuation byte 0x80', 0x80),
  raw('lone lead byte 0xC3', 0xc3),
  raw('raw control character 0x01 (not allowed in JSON strings)', 0x01),
  raw('raw tab 0x09 (not allowed in JSON strings)', 0x09),
]

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2)
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    out[i * 2] = unit & 0xff
    out[i * 2 + 1] = unit >> 8
  }
  return out
}

function latin1(text: string): Uint8Array {
  return Uint8Array.from([...text].map((char) => (char.codePointAt(0) ?? 63) & 0xff))
}

/** The string at `path` with the insert appended: an id keeps its fresh value, so dedupe hides nothing. */
function inString(value: unknown, path: JsonPath, insert: Insert): Uint8Array {
  const { before, after } = bodyAround(value, path)
  const kept = JSON.stringify(getAt(value, path) ?? '').slice(1, -1)
  return concatBytes([utf8(`${before}"${kept}`), insert.bytes, utf8(`"${after}`)])
}

export function badUnicode(input: FamilyInput): DraftVariant[] {
  const candidates: Candidate[] = []
  for (let n = 0; n < input.samples; n++) {
    const sample = input.base(n)
    const strings = listPaths(sample).filter((path) => typeof getAt(sample, path) === 'string')
    const paths: JsonPath[] = strings.length > 0 ? strings : [['text']]
    for (const path of paths) {
      for (const insert of INSERTS) {
        candidates.push(() => ({
          family: 'bad-unicode',
          description: `${toPointer(path)}: ${insert.label}`,
          body: inString(input.base(n), path, insert),
          contentType: JSON_CONTENT_TYPE,
          target: toPointer(path),
        }))
      }
    }
    const withAccent = () => JSON.stringify({ ...(input.base(n) as object), note: 'café' })
    candidates.push(
      () => ({
        family: 'bad-unicode',
        description: 'UTF-8 byte order mark before the body',
        body: concatBytes([Uint8Array.from([0xef, 0xbb, 0xbf]), utf8(JSON.stringify(input.base(n)))]),
        contentType: JSON_CONTENT_TYPE,
      }),
      () => ({
        family: 'bad-unicode',
        description: 'the whole body in UTF-16LE',
        body: utf16le(JSON.stringify(input.base(n))),
        contentType: 'application/json; charset=utf-16',
      }),
      () => ({
        family: 'bad-unicode',
        description: 'the whole body in Latin-1 ("é" as the byte E9)',
        body: latin1(withAccent()),
        contentType: 'application/json; charset=iso-8859-1',
      }),
    )
  }
  return choose(candidates, input.count, input.random)
}
