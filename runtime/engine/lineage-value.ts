/** @module The abstract values lineage evaluation works with: what a JSONata sub-expression yields, in terms of input paths. Browser-safe. */
import { iterated, join, parentPath } from './lineage-paths.ts'

/** The parts of the jsonata AST that lineage reads (see jsonata's `processAST`). */
export interface AstNode {
  type: string
  value?: unknown
  steps?: AstNode[]
  expressions?: AstNode[]
  arguments?: AstNode[]
  procedure?: AstNode
  lhs?: AstNode | [AstNode, AstNode][]
  rhs?: AstNode
  expression?: AstNode
  condition?: AstNode
  then?: AstNode
  else?: AstNode
  body?: AstNode
  thunk?: boolean
  pattern?: AstNode
  update?: AstNode
  delete?: AstNode
  stages?: AstNode[]
  predicate?: AstNode[]
  expr?: AstNode
  group?: { lhs: [AstNode, AstNode][] }
  terms?: { descending?: boolean; expression: AstNode }[]
  keepArray?: boolean
  keepSingletonArray?: boolean
  focus?: string
  index?: string
}

/** Variable scope plus the context item (`$`) and the root input (`$$`). */
export interface Scope {
  readonly vars: Map<string, Val>
  readonly parent: Scope | undefined
  readonly ctx: Val
  readonly root: Val
}

export type Fn =
  | { t: 'lambda'; node: AstNode; scope: Scope }
  | { t: 'builtin'; name: string }
  | { t: 'partial'; target: Val; args: readonly (Val | null)[] }
  | { t: 'transform'; node: AstNode; scope: Scope }

/**
 * `data`: input itself at `locs` (navigable: a further step extends the paths), or with no locs a computed leaf;
 * `obj`: an object constructor's fields (keys are encoded segments, `*` for a computed key);
 * `arr`: an array whose every item is `item`; `fn`: a function value.
 * `extra` holds paths read on the way (predicates, conditions) that every part of the value depends on.
 */
export type Val =
  | { k: 'data'; locs: readonly string[]; extra: ReadonlySet<string>; lit?: string }
  | { k: 'obj'; fields: ReadonlyMap<string, Val>; extra: ReadonlySet<string> }
  | { k: 'arr'; item: Val; extra: ReadonlySet<string> }
  | { k: 'fn'; fn: Fn; extra: ReadonlySet<string> }

export const NONE: ReadonlySet<string> = new Set()

export function leaf(reads: Iterable<string> = NONE): Val {
  return { k: 'data', locs: [], extra: new Set(reads) }
}

export function at(locs: readonly string[], extra: ReadonlySet<string> = NONE): Val {
  return { k: 'data', locs, extra }
}

export function scopeOf(parent: Scope, ctx: Val = parent.ctx): Scope {
  return { vars: new Map(), parent, ctx, root: parent.root }
}

export function lookup(scope: Scope | undefined, name: string): Val | undefined {
  for (let s = scope; s; s = s.parent) {
    const found = s.vars.get(name)
    if (found) return found
  }
  return undefined
}

/** Every input path a value depends on. */
export function readsOf(value: Val, into: Set<string> = new Set()): Set<string> {
  for (const path of value.extra) into.add(path)
  if (value.k === 'data') for (const path of value.locs) into.add(path)
  else if (value.k === 'obj') for (const field of value.fields.values()) readsOf(field, into)
  else if (value.k === 'arr') readsOf(value.item, into)
  return into
}

export function readsOfAll(values: readonly Val[]): Set<string> {
  const into = new Set<string>()
  for (const value of values) readsOf(value, into)
  return into
}

export function withExtra(value: Val, extra: Iterable<string>): Val {
  const merged = new Set(value.extra)
  for (const path of extra) merged.add(path)
  if (merged.size === value.extra.size) return value
  if (value.k === 'data') return { k: 'data', locs: value.locs, extra: merged }
  return { ...value, extra: merged }
}

/** A name step (`seg` already encoded, or `*` / `**`) applied to a value. */
export function stepInto(value: Val, seg: string): Val {
  switch (value.k) {
    case 'data':
      return at(
        value.locs.map((loc) => join(loc, seg)),
        value.extra,
      )
    case 'arr':
      return withExtra(stepInto(value.item, seg), value.extra)
    case 'fn':
      return leaf(value.extra)
    case 'obj': {
      if (seg === '*' || seg === '**') return alternatives([...value.fields.values()], value.extra)
      const found = [value.fields.get(seg), value.fields.get('*')].filter((v): v is Val => v !== undefined)
      return alternatives(found, value.extra)
    }
  }
}

/** One item of an array value: `items` → `items[]`; a constructed array gives its item; anything else is its own item. */
export function iterate(value: Val): Val {
  if (value.k === 'data') return at(value.locs.map(iterated), value.extra)
  if (value.k === 'arr') return withExtra(value.item, value.extra)
  return value
}

/** `%`: the object that holds the current context. */
export function parentOf(value: Val): Val {
  if (value.k !== 'data') return leaf(value.extra)
  const locs = value.locs.map(parentPath).filter((loc): loc is string => loc !== undefined)
  return at([...new Set(locs)], value.extra)
}

/**
 * Alternatives (condition branches, array items, repeated keys) merged into one value; `null` entries are
 * absent branches. Objects merge field by field, arrays item by item, input paths union; mixed kinds collapse
 * to a leaf. `extra` (e.g. the condition's reads) is added to the whole result.
 */
export function alternatives(values: readonly (Val | null)[], extra: Iterable<string>): Val {
  const present = values.filter((v): v is Val => v !== null)
  const extras = new Set(extra)
  for (const value of present) for (const path of value.extra) extras.add(path)
  if (present.length === 0) return leaf(extras)
  if (present.length === 1 && present[0]) return withExtra(present[0], extras)
  if (present.every((v) => v.k === 'obj')) {
    const grouped = new Map<string, Val[]>()
    for (const value of present) {
      for (const [key, field] of value.fields) grouped.set(key, [...(grouped.get(key) ?? []), field])
    }
    const fields = new Map<string, Val>()
    for (const [key, list] of grouped) fields.set(key, alternatives(list, NONE))
    return { k: 'obj', fields, extra: extras }
  }
  if (present.every((v) => v.k === 'arr')) {
    return {
      k: 'arr',
      item: alternatives(
        present.map((v) => v.item),
        NONE,
      ),
      extra: extras,
    }
  }
  if (present.every((v) => v.k === 'data')) {
    return at([...new Set(present.flatMap((v) => v.locs))], extras)
  }
  const reads = readsOfAll(present)
  for (const path of extras) reads.add(path)
  return leaf(reads)
}
