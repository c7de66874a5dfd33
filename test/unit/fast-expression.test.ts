import jsonata from 'jsonata'
import { describe, expect, it } from 'vitest'
import { compileExpression } from '../../runtime/engine/compile.ts'
import { fastEvaluator } from '../../runtime/engine/fast-expression.ts'

const inputs: unknown[] = [
  { id: 'evt_1', type: 'report.completed', data: { reportId: 'r1', status: 'completed', count: 3, ok: true } },
  { id: 7, type: 'report.failed', data: null },
  { id: null, type: ['a', 'b'], data: { reportId: ['x', 'y'], status: { nested: 1 } } },
  { type: 'report.completed', data: 'text' },
  [{ id: 'a' }, { id: 'b' }],
  'a string',
  null,
  {},
]
const bindings = { headers: { 'webhook-id': 'msg_1', 'x-n': '5' }, event: { id: 'evt-x', flowVersion: 2 } }

describe('the fast lane for simple expressions', () => {
  const expressions = [
    'id',
    'data.reportId',
    'data.status',
    'data.count',
    'data.ok',
    'data.missing.deeper',
    '$headers.`webhook-id`',
    '$event.id',
    '$event.flowVersion',
    'type = "report.completed"',
    'type != "report.completed"',
    'data.count = 3',
    'data.ok = true',
    'id = 7',
    'missing = "x"',
    'missing != "x"',
  ]
  for (const source of expressions) {
    it(`gives what JSONata gives for ${source}, on every input`, async () => {
      const full = jsonata(source)
      expect(fastEvaluator(full)).toBeDefined()
      const compiled = compileExpression(source)
      for (const input of inputs) {
        expect(await compiled.evaluate(input, bindings), JSON.stringify(input)).toEqual(
          await full.evaluate(input, bindings),
        )
      }
    })
  }

  it('leaves every other form to JSONata', () => {
    for (const source of [
      'items[0]',
      'a.b[type="x"]',
      '$substringBefore(type, ".")',
      'a and b',
      'a.*',
      '$',
      'x = y',
      'a.b#$i',
    ]) {
      expect(fastEvaluator(jsonata(source)), source).toBeUndefined()
    }
  })
})
