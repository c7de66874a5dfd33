/**
 * @module The flow file format: how a flow document (what the API, the editor and the store hold) is written to
 * `flows/<id>.flow.json` for git, and read back. Browser-safe: the editor can read and write files the same way.
 *
 * A file is the canonical JSON of the document (stable key order, 2-space indent, trailing newline) with three
 * differences, each so that a reviewed change gives a small git diff:
 * - a multi-line JSONata expression (or `{{…}}` template) is an array of its lines, so a changed line of the
 *   mapping is one changed line in the file; one-line expressions stay strings;
 * - a node's `position` is kept on one line, so moving a node on the canvas is one changed line, and so is each
 *   edge (`{ "from": "a", "port": "ok", "to": "b" }`), so wiring is one line per edge;
 * - there is no `version`: the runtime numbers the versions it saves (`mapper import` saves the next one), git
 *   numbers the file's. A file that has one is still read; the number is not used.
 * `JSON.parse` of a file and then `documentFromFile` gives the document back exactly (but for the version).
 */
import { canonicalize } from '../model/canonical-json.ts'
import type { NodeKind } from '../model/node-kind.ts'
import type { FlowDocument } from '../model/types.ts'
import { type JsonPath, printJson } from './print-json.ts'

/** The version a document read from a file carries until a store numbers it (files have none). */
export const UNNUMBERED_VERSION = 1

/** The text of `flows/<id>.flow.json` for a document. */
export function flowFileText(document: FlowDocument, kinds: ReadonlyMap<string, NodeKind>): string {
  const { version: _numberedByTheStore, ...rest } = canonicalize(document) as FlowDocument
  const nodes = rest.nodes.map((node) => {
    let config: unknown = node.config
    for (const field of expressionFields(node, kinds)) {
      const source = readField(config, field)
      if (typeof source === 'string' && source.includes('\n')) config = writeField(config, field, source.split('\n'))
    }
    return config === node.config ? node : { ...node, config }
  })
  return `${printJson({ ...rest, nodes }, isOneLine)}\n`
}

/**
 * The document a parsed file holds: expression line arrays joined back into strings. Anything that is not a flow
 * is handed back as it is, for the graph checks to explain. The version is the file's, when it has one.
 */
export function documentFromFile(parsed: unknown, kinds: ReadonlyMap<string, NodeKind>): unknown {
  if (!isObject(parsed) || !Array.isArray(parsed.nodes)) return parsed
  const nodes = parsed.nodes.map((node: unknown) => {
    if (!isObject(node) || !isObject(node.config)) return node
    let config: unknown = node.config
    for (const field of expressionFields(node as { kind: unknown; config: unknown }, kinds)) {
      const lines = readField(config, field)
      if (Array.isArray(lines) && lines.every((line) => typeof line === 'string')) {
        config = writeField(config, field, lines.join('\n'))
      }
    }
    return config === node.config ? node : { ...node, config }
  })
  return { ...parsed, nodes }
}

/**
 * The config fields of a node that hold JSONata (expressions and `{{…}}` templates), as the node's kind declares
 * them for compiling: `expression`, `body`, `cases[0].when`, … Unknown kinds and broken configs have none.
 */
export function expressionFields(
  node: { kind: unknown; config: unknown },
  kinds: ReadonlyMap<string, NodeKind>,
): string[] {
  const kind = typeof node.kind === 'string' ? kinds.get(node.kind) : undefined
  if (!kind?.compileTargets || !isObject(node.config)) return []
  try {
    return kind
      .compileTargets(node.config as never)
      .filter((target) => target.type === 'expression' || target.type === 'template')
      .map((target) => target.field)
  } catch {
    return [] // a config too broken to name its targets: the graph checks say what is wrong with it
  }
}

/** Node positions and edges: small objects whose one-line form makes a move or a rewiring one changed line. */
function isOneLine(path: JsonPath): boolean {
  if (path.length === 3 && path[0] === 'nodes' && path[2] === 'position') return true
  return path.length === 2 && path[0] === 'edges'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `cases[0].when` → ['cases', 0, 'when']. */
function fieldPath(field: string): Array<string | number> {
  return [...field.matchAll(/[^.[\]]+/g)].map(([part]) => (/^\d+$/.test(part) ? Number(part) : part))
}

function readField(root: unknown, field: string): unknown {
  let value = root
  for (const key of fieldPath(field)) {
    if (typeof value !== 'object' || value === null) return undefined
    value = (value as Record<string | number, unknown>)[key]
  }
  return value
}

/** A copy of `root` with the field replaced; the objects and arrays on the way are copied, nothing is mutated. */
function writeField(root: unknown, field: string, replacement: unknown): unknown {
  const write = (value: unknown, keys: Array<string | number>): unknown => {
    const [key, ...rest] = keys
    if (key === undefined) return replacement
    if (Array.isArray(value) && typeof key === 'number') {
      return value.map((item, index) => (index === key ? write(item, rest) : item))
    }
    if (isObject(value)) return { ...value, [key]: write(value[key], rest) }
    return value
  }
  return write(root, fieldPath(field))
}
