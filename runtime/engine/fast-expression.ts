/**
 * @module A fast lane for the JSONata expressions guards use most — a path (`id`, `data.reportId`,
 * `$headers.\`webhook-id\``) or a path compared with a literal (`type = "report.completed"`).
 *
 * JSONata's evaluator costs microseconds per call on the webhook path; these forms are a property walk.
 * Whenever a value is not a plain scalar or object (arrays bring JSONata's sequence rules), the fast lane
 * steps aside and JSONata evaluates, so results are always JSONata's.
 */
import type jsonata from 'jsonata'

export const NOT_FAST = Symbol('not fast')
export type FastEvaluator = (input: unknown, bindings: Record<string, unknown>) => unknown

interface AstNode {
  type: string
  value?: unknown
  steps?: AstNode[]
  lhs?: AstNode
  rhs?: AstNode
  stages?: unknown[]
  predicate?: unknown
  group?: unknown
  keepArray?: boolean
  focus?: unknown
  index?: unknown
  tuple?: boolean
}

const PLAIN_STEP_KEYS = new Set(['type', 'value', 'position'])

/** A fast evaluator for the expression, or undefined when it is not one of the simple forms. */
export function fastEvaluator(expression: jsonata.Expression): FastEvaluator | undefined {
  const ast = expression.ast() as unknown as AstNode
  const path = pathReader(ast)
  if (path) return path
  if (ast.type === 'binary' && (ast.value === '=' || ast.value === '!=') && ast.lhs && ast.rhs) {
    const read = pathReader(ast.lhs)
    const literal = literalOf(ast.rhs)
    if (!read || literal === NOT_FAST) return undefined
    const equal = ast.value === '='
    return (input, bindings) => {
      const value = read(input, bindings)
      if (value === NOT_FAST || (typeof value === 'object' && value !== null)) return NOT_FAST
      if (value === undefined) return false
      return equal ? value === literal : value !== literal
    }
  }
  return undefined
}

function literalOf(node: AstNode): unknown {
  if (node.type === 'string' || node.type === 'number') return node.value
  if (node.type === 'value' && (node.value === true || node.value === false)) return node.value
  return NOT_FAST
}

/** `a.b.c` or `$headers.name`: each step a bare name, no filters, groups or positional bindings. */
function pathReader(node: AstNode): FastEvaluator | undefined {
  if (node.type !== 'path' || !node.steps || node.keepArray || node.group) return undefined
  const names: string[] = []
  let variable: string | undefined
  for (const [index, step] of node.steps.entries()) {
    if (Object.keys(step).some((key) => !PLAIN_STEP_KEYS.has(key))) return undefined
    if (step.type === 'variable' && index === 0 && (step.value === 'headers' || step.value === 'event')) {
      variable = step.value
      continue
    }
    if (step.type !== 'name' || typeof step.value !== 'string') return undefined
    names.push(step.value)
  }
  return (input, bindings) => {
    let value: unknown = variable === undefined ? input : bindings[variable]
    for (const name of names) {
      if (value === undefined || value === null) return undefined
      if (typeof value !== 'object' || Array.isArray(value)) return NOT_FAST
      value = (value as Record<string, unknown>)[name]
    }
    return Array.isArray(value) ? NOT_FAST : value
  }
}
