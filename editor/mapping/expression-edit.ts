/**
 * @module Writes `"out": in.path` into a JSONata object constructor by editing its text, so the user's layout,
 * comments and other fields stay as they were.
 */
import { splitPath } from '../../runtime/engine/lineage-paths.ts'

interface Entry {
  key: string
  valueStart: number
  valueEnd: number
}

interface ObjectSpan {
  open: number
  close: number
  entries: Entry[]
}

const WHITESPACE = /\s/

/** Index just after a string, comment or backtick name starting at `i`, or `i` when none starts there. */
function skipLiteral(text: string, i: number): number {
  const char = text[i]
  if (char === '"' || char === "'" || char === '`') {
    let j = i + 1
    while (j < text.length && text[j] !== char) j += text[j] === '\\' && char !== '`' ? 2 : 1
    return j + 1
  }
  if (char === '/' && text[i + 1] === '*') {
    const end = text.indexOf('*/', i + 2)
    return end === -1 ? text.length : end + 2
  }
  return i
}

function skipSpace(text: string, i: number): number {
  let j = i
  for (;;) {
    while (j < text.length && WHITESPACE.test(text[j] as string)) j++
    if (text[j] === '/' && text[j + 1] === '*') j = skipLiteral(text, j)
    else return j
  }
}

/** The entries of the object constructor opening at `open`, or undefined when the braces do not close. */
function readObject(text: string, open: number): ObjectSpan | undefined {
  const entries: Entry[] = []
  let i = open + 1
  for (;;) {
    i = skipSpace(text, i)
    if (text[i] === '}') return { open, close: i, entries }
    const keyStart = i
    const quote = text[i]
    if (quote !== '"' && quote !== "'") return undefined
    const keyEnd = skipLiteral(text, i)
    const raw = text.slice(keyStart, keyEnd)
    const key = quote === '"' ? (JSON.parse(raw) as string) : raw.slice(1, -1).replace(/\\'/g, "'")
    i = skipSpace(text, keyEnd)
    if (text[i] !== ':') return undefined
    const valueStart = skipSpace(text, i + 1)
    let depth = 0
    let j = valueStart
    while (j < text.length) {
      const skipped = skipLiteral(text, j)
      if (skipped !== j) {
        j = skipped
        continue
      }
      const char = text[j] as string
      if ('([{'.includes(char)) depth++
      else if (')]}'.includes(char)) {
        if (depth === 0) break
        depth--
      } else if (char === ',' && depth === 0) break
      j++
    }
    if (j >= text.length) return undefined
    let valueEnd = j
    while (valueEnd > valueStart && WHITESPACE.test(text[valueEnd - 1] as string)) valueEnd--
    entries.push({ key, valueStart, valueEnd })
    i = text[j] === ',' ? j + 1 : j
  }
}

function indentBefore(text: string, index: number): string {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ''
}

/** A value for the path's remaining segments: `{"b": {"c": value}}`. */
function nested(segments: readonly string[], value: string): string {
  return segments.reduceRight((inner, key) => `{ ${JSON.stringify(key)}: ${inner} }`, value)
}

function setIn(text: string, span: ObjectSpan, segments: readonly string[], value: string): string {
  const [key, ...rest] = segments
  if (key === undefined) return text
  const entry = span.entries.find((e) => e.key === key)
  if (entry) {
    if (rest.length === 0) return text.slice(0, entry.valueStart) + value + text.slice(entry.valueEnd)
    if (text[entry.valueStart] !== '{') {
      throw new Error(`"${key}" is not an object constructor here, so "${rest.join('.')}" cannot be written into it`)
    }
    const inner = readObject(text, entry.valueStart)
    if (!inner) throw new Error(`the object of "${key}" does not close`)
    return setIn(text, inner, rest, value)
  }
  const addition = `${JSON.stringify(key)}: ${rest.length === 0 ? value : nested(rest, value)}`
  const last = span.entries.at(-1)
  const multiline = text.slice(span.open, span.close).includes('\n')
  if (last) {
    const separator = multiline ? `,\n${indentBefore(text, last.valueStart)}` : ', '
    return text.slice(0, last.valueEnd) + separator + addition + text.slice(last.valueEnd)
  }
  const outer = indentBefore(text, span.open)
  return `${text.slice(0, span.open + 1)}\n${outer}  ${addition}\n${outer}${text.slice(span.close)}`
}

/** The expression with output field `output` (dotted, lineage notation) set to read `input`. */
export function writeField(expression: string, output: string, input: string): string {
  const segments = splitPath(output).map((s) => s.replace(/^`|`$/g, ''))
  if (segments.some((s) => s.endsWith('[]') || s === '$' || s === '')) {
    throw new Error(`"${output}" is inside an array: write that mapping by hand`)
  }
  const start = skipSpace(expression, 0)
  if (expression.trim() === '') return `{\n  ${JSON.stringify(segments[0])}: ${nested(segments.slice(1), input)}\n}`
  if (expression[start] !== '{')
    throw new Error('the mapping is not an object constructor { … }: write that field by hand')
  const span = readObject(expression, start)
  if (!span || skipSpace(expression, span.close + 1) < expression.length) {
    throw new Error('the mapping is more than one object constructor { … }: write that field by hand')
  }
  return setIn(expression, span, segments, input)
}
