/**
 * @module Field lineage of a JSONata mapping, derived from its syntax tree (never from data). Browser-safe: the
 * editor imports it to draw mapping lines.
 *
 * A lineage maps each output field path to the sorted, de-duplicated input field paths it reads; `[]` means the
 * field is computed from no input (literals, `$now()`).
 *
 * Path notation (both sides):
 * - dot-separated field names: `data.reportId`; names that are not simple identifiers (`-`, spaces, dots, …) in
 *   backticks like JSONata: `` data.`x-request-id` ``;
 * - `$` is the whole input (or, as an output key, the whole output when the expression is not an object
 *   constructor); `$$` reads the root too; `` $headers.`user-agent` `` and `$event.id` for the runtime's variables
 *   (`$lookup($headers, "x-id")` is the same read as `` $headers.`x-id` ``); other free `$names` are functions and
 *   read nothing; variables bound with `:=` and lambda parameters resolve to what they were bound to, keeping
 *   structure (`$o := {"k": a}; $o.k` reads `a`);
 * - `*` is a wildcard step (and a computed object key), `**` a descendant step.
 *
 * Output paths: object constructors flatten to dotted keys (`{"b": {"c": x}}` → `b.c`). A conditional whose
 * branches are object constructors (or `null` / missing) merges field by field, each field also reading the
 * condition; any other mix collapses to one leaf reading everything. Operators, function calls, conditions,
 * predicates (`items[type="a"].price` reads `items.type` and `items.price`) and sort terms all union their reads.
 *
 * The `[]` rule — syntax cannot tell which fields are arrays, so `[]` appears only where the expression itself
 * iterates per item:
 * - `$map(items, function($v, $i) {…})`: the lambda's item parameter is `items[]` (same for `$filter`, `$single`,
 *   `$sort`, `$reduce`; `$each`/`$sift` bind `items.*`), and the result is an array of the body;
 * - a path step followed by an object/array constructor iterates (the step gets `[]`, relative reads inside are
 *   below `step[]`) only when the path is marked `[]` (`items[].{…}`) or is an item of an array constructor
 *   (`[items.{…}]`); plain `items.{…}` and `data.{…}` stay without `[]`, and so do plain paths (`data.items.price`);
 * - on the output side `[]` is only written before sub-fields of an array of objects: `lines[].sku`; an array of
 *   plain values is the leaf `lines`.
 */
import jsonata from 'jsonata'
import type { Lineage } from '../model/node-kind.ts'
import { evaluateAst } from './lineage-eval.ts'
import { isVariablePath, iterated, join, pathKey, ROOT } from './lineage-paths.ts'
import { type AstNode, readsOf, type Val } from './lineage-value.ts'

export type { Lineage }

/** Output field path → input field paths it reads; throws jsonata's error when the expression does not parse. */
export function deriveLineage(expression: string): Lineage {
  const ast = jsonata(expression).ast() as unknown as AstNode
  const fields = new Map<string, Set<string>>()
  flatten(evaluateAst(ast), ROOT, new Set(), fields)
  const lineage: Lineage = {}
  for (const [output, inputs] of fields) lineage[output] = [...inputs].sort()
  return lineage
}

function hasFields(value: Val): boolean {
  return value.k === 'obj' || (value.k === 'arr' && hasFields(value.item))
}

function flatten(value: Val, output: string, inherited: ReadonlySet<string>, into: Map<string, Set<string>>): void {
  const reads = new Set([...inherited, ...value.extra])
  if (value.k === 'obj' && value.fields.size > 0) {
    for (const [key, field] of value.fields) flatten(field, join(output, key), reads, into)
  } else if (value.k === 'arr' && hasFields(value.item)) {
    flatten(value.item, iterated(output), reads, into)
  } else {
    const target = into.get(output) ?? new Set<string>()
    for (const path of readsOf(value, reads)) target.add(path)
    into.set(output, target)
  }
}

function sameSegment(a: string, b: string): boolean {
  return a === b || a === '*' || b === '*' || a === '**' || b === '**'
}

function isPrefix(prefix: readonly string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => sameSegment(seg, path[i] ?? ''))
}

/**
 * Lineage of two transforms in a row. Each input path of `downstream` is rewritten through `upstream`:
 * at or below an upstream output (`[]` ignored when matching, so `lines.sku` meets `lines[].sku`) it becomes that
 * output's inputs; above upstream outputs (reading a whole object built upstream) it becomes all their inputs;
 * otherwise, and always for `$headers…` / `$event…`, it passes through unchanged.
 */
export function composeLineage(downstream: Lineage, upstream: Lineage): Lineage {
  const produced = Object.entries(upstream).map(([output, inputs]) => ({ key: pathKey(output), inputs }))
  const resolve = (path: string): readonly string[] => {
    if (isVariablePath(path)) return [path]
    const key = pathKey(path)
    let matches = produced.filter((p) => isPrefix(p.key, key))
    if (matches.length === 0) matches = produced.filter((p) => isPrefix(key, p.key))
    return matches.length === 0 ? [path] : matches.flatMap((p) => p.inputs)
  }
  const lineage: Lineage = {}
  for (const [output, inputs] of Object.entries(downstream)) {
    lineage[output] = [...new Set(inputs.flatMap(resolve))].sort()
  }
  return lineage
}
