/** @module Abstract evaluation of a jsonata AST into a lineage value (which input paths each part reads). Browser-safe. */
import { ROOT, segment } from './lineage-paths.ts'
import {
  type AstNode,
  alternatives,
  at,
  type Fn,
  iterate,
  leaf,
  lookup,
  NONE,
  parentOf,
  readsOf,
  readsOfAll,
  type Scope,
  scopeOf,
  stepInto,
  type Val,
  withExtra,
} from './lineage-value.ts'

/** Variables the runtime binds to request data: `$headers.x` → path `$headers.x`, `$event.id` → `$event.id`. */
export const INPUT_VARIABLES: ReadonlySet<string> = new Set(['headers', 'event'])

/**
 * Built-ins whose first parameter defaults to the context (`name.$uppercase()`, `x ~> $trim()`), with the number
 * of arguments below which the context is inserted (from the `-` in jsonata's signatures).
 */
const CONTEXT_DEFAULT: ReadonlyMap<string, number> = new Map([
  ...contextDefault(
    1,
    'string lowercase uppercase length trim formatBase number floor ceil round abs sqrt boolean not',
  ),
  ...contextDefault(1, 'keys spread clone base64encode base64decode encodeUrl encodeUrlComponent decodeUrl'),
  ...contextDefault(1, 'decodeUrlComponent toMillis fromMillis'),
  ...contextDefault(2, 'substring substringBefore substringAfter pad match contains split formatNumber formatInteger'),
  ...contextDefault(2, 'parseInteger power sift lookup each'),
  ...contextDefault(3, 'replace'),
])

function contextDefault(args: number, names: string): [string, number][] {
  return names.split(' ').map((name) => [name, args])
}

/** Upper bound on lambda applications per expression, so pathological recursion stays cheap. */
const MAX_CALLS = 5_000

/** The lineage value of a whole expression evaluated against the input root. */
export function evaluateAst(ast: AstNode): Val {
  const root = at([ROOT])
  const scope: Scope = { vars: new Map(), parent: undefined, ctx: root, root }
  return new Evaluator().ev(ast, scope)
}

function isConstructor(node: AstNode): boolean {
  if (node.type === 'unary') return node.value === '{' || node.value === '['
  if (node.type === 'block') {
    const last = node.expressions?.at(-1)
    return last !== undefined && isConstructor(last)
  }
  return false
}

function pairsOf(node: AstNode): [AstNode, AstNode][] {
  return Array.isArray(node.lhs) ? node.lhs : []
}

function single(node: AstNode | [AstNode, AstNode][] | undefined): AstNode | undefined {
  return Array.isArray(node) ? undefined : node
}

function fnVal(fn: Fn): Val {
  return { k: 'fn', fn, extra: NONE }
}

class Evaluator {
  private calls = 0
  private readonly active = new Set<AstNode>()

  /** Evaluates `node`; `inArray` is true for the direct items of an array constructor (see the `[]` rule). */
  ev(node: AstNode | undefined, scope: Scope, inArray = false): Val {
    if (!node) return leaf()
    let value = this.core(node, scope, inArray)
    for (const filter of node.predicate ?? []) value = this.filter(value, filter, scope)
    if (node.group) value = this.object(node.group.lhs, scopeOf(scope, value))
    return value
  }

  private core(node: AstNode, scope: Scope, inArray: boolean): Val {
    switch (node.type) {
      case 'path':
        return this.path(node, scope, inArray)
      case 'name':
        return stepInto(scope.ctx, segment(String(node.value)))
      case 'wildcard':
        return stepInto(scope.ctx, '*')
      case 'descendant':
        return stepInto(scope.ctx, '**')
      case 'parent':
        return parentOf(scope.ctx)
      case 'variable':
        return this.variable(String(node.value), scope)
      case 'string':
        return { k: 'data', locs: [], extra: NONE, lit: String(node.value) }
      case 'unary':
        if (node.value === '{') return this.object(pairsOf(node), scope)
        if (node.value === '[') return this.array(node.expressions ?? [], scope)
        return leaf(readsOf(this.ev(node.expression, scope)))
      case 'binary':
        return leaf(readsOfAll([this.ev(single(node.lhs), scope), this.ev(node.rhs, scope)]))
      case 'condition': {
        const condition = readsOf(this.ev(node.condition, scope))
        const branch = (b: AstNode | undefined) =>
          b === undefined || (b.type === 'value' && b.value === null) ? null : this.ev(b, scope, inArray)
        return alternatives([branch(node.then), branch(node.else)], condition)
      }
      case 'block': {
        const inner = scopeOf(scope)
        const expressions = node.expressions ?? []
        let value = leaf()
        expressions.forEach((e, i) => {
          value = this.ev(e, inner, inArray && i === expressions.length - 1)
        })
        return value
      }
      case 'bind': {
        const value = this.ev(node.rhs, scope)
        const target = single(node.lhs)
        if (target?.type === 'variable') scope.vars.set(String(target.value), value)
        return value
      }
      case 'apply': {
        const input = this.ev(single(node.lhs), scope)
        if (node.rhs?.type === 'function') return this.call(node.rhs, scope, input)
        return this.apply(this.ev(node.rhs, scope), [input], scope)
      }
      case 'function':
        return this.call(node, scope)
      case 'partial': {
        const target = this.ev(node.procedure, scope)
        const args = (node.arguments ?? []).map((a) =>
          a.type === 'operator' && a.value === '?' ? null : this.ev(a, scope),
        )
        return fnVal({ t: 'partial', target, args })
      }
      case 'lambda':
        return node.thunk ? this.ev(node.body, scope, inArray) : fnVal({ t: 'lambda', node, scope })
      case 'transform':
        return fnVal({ t: 'transform', node, scope })
      case 'sort': {
        const terms = (node.terms ?? []).map((term) => this.ev(term.expression, scope))
        return withExtra(scope.ctx, readsOfAll(terms))
      }
      default:
        // string/number/value/regex literals, placeholders, parse-recovery errors: no input.
        return leaf()
    }
  }

  private variable(name: string, scope: Scope): Val {
    if (name === '') return scope.ctx
    if (name === '$') return scope.root
    const bound = lookup(scope, name)
    if (bound) return bound
    if (INPUT_VARIABLES.has(name)) return at([`$${name}`])
    // Any other free variable is a built-in (or host-registered) function: it reads nothing by itself.
    return fnVal({ t: 'builtin', name })
  }

  private path(node: AstNode, scope: Scope, inArray: boolean): Val {
    const steps = node.steps ?? []
    const arrayMode = inArray || node.keepArray === true || node.keepSingletonArray === true
    const local = scopeOf(scope) // holds `#$i` / `@$v` bindings for the later steps
    let current = scope.ctx
    steps.forEach((step, i) => {
      let value: Val
      if (i > 0 && arrayMode && isConstructor(step)) {
        value = { k: 'arr', item: this.ev(step, scopeOf(local, iterate(current))), extra: NONE }
      } else if (step.type === 'name') {
        value = stepInto(current, segment(String(step.value)))
      } else {
        value = this.ev(step, scopeOf(local, current))
      }
      if (step.index) local.vars.set(step.index, leaf())
      if (step.focus) local.vars.set(step.focus, value)
      for (const stage of step.stages ?? []) {
        if (stage.type === 'index') local.vars.set(String(stage.value), leaf())
        else value = this.filter(value, stage, local)
      }
      // `@$v` binds the step and keeps the context where it was; otherwise the step becomes the context.
      if (step.focus) local.vars.set(step.focus, value)
      else current = value
    })
    return current
  }

  /** A predicate `[expr]`: its reads, relative to the filtered value, are added; a numeric index reads nothing. */
  private filter(value: Val, stage: AstNode, scope: Scope): Val {
    if (!stage.expr || stage.expr.type === 'number') return value
    return withExtra(value, readsOf(this.ev(stage.expr, scopeOf(scope, value))))
  }

  private object(pairs: readonly [AstNode, AstNode][], scope: Scope): Val {
    const fields = new Map<string, Val>()
    for (const [keyNode, valueNode] of pairs) {
      let value = this.ev(valueNode, scope)
      let key = '*'
      if (keyNode.type === 'string') key = segment(String(keyNode.value))
      else value = withExtra(value, readsOf(this.ev(keyNode, scope)))
      const previous = fields.get(key)
      fields.set(key, previous ? alternatives([previous, value], NONE) : value)
    }
    return { k: 'obj', fields, extra: NONE }
  }

  private array(expressions: readonly AstNode[], scope: Scope): Val {
    // Nested results flatten into the array (as jsonata does for sequences): a constructed array adds its items.
    const items = expressions.map((e) => {
      const value = this.ev(e, scope, true)
      return value.k === 'arr' ? withExtra(value.item, value.extra) : value
    })
    return { k: 'arr', item: alternatives(items, NONE), extra: NONE }
  }

  private call(node: AstNode, scope: Scope, input?: Val): Val {
    const args = (node.arguments ?? []).map((a) => this.ev(a, scope))
    if (input) args.unshift(input)
    return this.apply(this.ev(node.procedure, scope), args, scope)
  }

  private apply(f: Val, args: readonly Val[], scope: Scope): Val {
    if (f.k !== 'fn') return leaf(readsOfAll([f, ...args]))
    const fn = f.fn
    switch (fn.t) {
      case 'builtin':
        return withExtra(this.builtin(fn.name, args, scope), f.extra)
      case 'partial': {
        let next = 0
        const filled = fn.args.map((a) => a ?? args[next++] ?? leaf())
        return this.apply(fn.target, [...filled, ...args.slice(next)], scope)
      }
      case 'transform': {
        const input = args[0] ?? leaf()
        const pattern = this.ev(fn.node.pattern, scopeOf(fn.scope, input))
        const changes = [this.ev(fn.node.update, scopeOf(fn.scope, pattern))]
        if (fn.node.delete) changes.push(this.ev(fn.node.delete, scopeOf(fn.scope, pattern)))
        return withExtra(input, readsOfAll(changes))
      }
      case 'lambda': {
        if (this.active.has(fn.node) || ++this.calls > MAX_CALLS) return leaf(readsOfAll(args))
        this.active.add(fn.node)
        try {
          const inner = scopeOf(fn.scope)
          ;(fn.node.arguments ?? []).forEach((param, i) => {
            inner.vars.set(String(param.value), args[i] ?? leaf())
          })
          return withExtra(this.ev(fn.node.body, inner), f.extra)
        } finally {
          this.active.delete(fn.node)
        }
      }
    }
  }

  /** Calls a function argument of a higher-order built-in; built-ins get only the first `arity` arguments. */
  private callback(f: Val, args: readonly Val[], scope: Scope, arity = 1): Val {
    const isLambda = f.k === 'fn' && f.fn.t === 'lambda'
    return this.apply(f, isLambda ? args : args.slice(0, arity), scope)
  }

  private builtin(name: string, given: readonly Val[], scope: Scope): Val {
    const min = CONTEXT_DEFAULT.get(name)
    const args = min !== undefined && given.length < min ? [scope.ctx, ...given] : given
    const [first = leaf(), second, third] = args
    switch (name) {
      case 'map':
        return {
          k: 'arr',
          item: second ? this.callback(second, [iterate(first), leaf(), first], scope) : iterate(first),
          extra: NONE,
        }
      case 'filter':
      case 'single':
      case 'sort': {
        if (!second) return first
        const item = iterate(first)
        const body = this.callback(
          second,
          [item, name === 'sort' ? item : leaf(), first],
          scope,
          name === 'sort' ? 2 : 1,
        )
        return withExtra(first, readsOf(body))
      }
      case 'sift':
        if (!second) return first
        return withExtra(first, readsOf(this.callback(second, [stepInto(first, '*'), leaf(), first], scope)))
      case 'each':
        return {
          k: 'arr',
          item: second ? this.callback(second, [stepInto(first, '*'), leaf(), first], scope) : leaf(),
          extra: NONE,
        }
      case 'reduce': {
        if (!second) return leaf(readsOf(first))
        const body = this.callback(second, [third ?? leaf(), iterate(first), leaf(), first], scope, 2)
        return alternatives([body, third ?? null], NONE)
      }
      case 'lookup':
        return second?.k === 'data' && second.lit !== undefined
          ? stepInto(first, segment(second.lit))
          : leaf(readsOfAll(args))
      case 'merge': {
        const merged = iterate(first)
        return merged.k === 'obj' ? merged : leaf(readsOf(first))
      }
      default: {
        // Any other function: its result depends on everything its arguments read.
        const data = args.find((a) => a.k !== 'fn')
        const reads = new Set<string>()
        for (const arg of args) {
          readsOf(arg.k === 'fn' ? this.callback(arg, [data ? iterate(data) : leaf()], scope) : arg, reads)
        }
        return leaf(reads)
      }
    }
  }
}
