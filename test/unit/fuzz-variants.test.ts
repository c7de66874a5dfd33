/** @module The fuzz generator: deterministic variants of every family, each the change it says it is. */
import { isUtf8 } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { compileFlow } from '../../runtime/engine/compile.ts'
import { schemaDirectory } from '../../runtime/files/schema-directory.ts'
import { flowGuards } from '../../runtime/fuzz/flow-guards.ts'
import { generateVariants } from '../../runtime/fuzz/generate-variants.ts'
import { getAt, jsonType, listPaths, toPointer, withoutAt } from '../../runtime/fuzz/json-paths.ts'
import { samplesFromSchema } from '../../runtime/fuzz/schema-sample.ts'
import { seededRandom } from '../../runtime/fuzz/seeded-random.ts'
import { FUZZ_FAMILIES, type FuzzVariant } from '../../runtime/fuzz/variant.ts'
import type { FlowDocument } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { MAX_BODY_NESTING, nestedDeeperThan } from '../../runtime/server/hooks.ts'
import { readFixture, readFlow, SCHEMAS_DIR } from '../support/paths.ts'

const schemas = schemaDirectory(SCHEMAS_DIR)
const conduit = ['report.completed', 'report.failed', 'matching.completed', 'matching.failed'].map(
  (name) => JSON.parse(readFixture(`conduit/${name}.json`)) as unknown,
)
const MAX = 100_000

function variants(options: { count?: number; seed?: string; idSeed?: string } = {}): FuzzVariant[] {
  return generateVariants({
    samples: conduit,
    count: options.count ?? 40,
    seed: options.seed ?? 's',
    maxBodyBytes: MAX,
    ...options,
  })
}

function text(variant: FuzzVariant): string {
  return Buffer.from(variant.body).toString('utf8')
}

function parse(variant: FuzzVariant): unknown {
  return JSON.parse(text(variant))
}

function validator(flowId: string) {
  const doc = readFlow(flowId) as FlowDocument
  const flow = compileFlow(doc, { kinds: nodeKinds, schemas })
  const ref = flowGuards(doc).validate?.config.schema as string
  return { ref, check: (payload: unknown) => flow.validate(ref, payload) }
}

describe('seeded random', () => {
  it('gives the same numbers for the same seed and others for another', () => {
    const a = seededRandom('x')
    const b = seededRandom('x')
    const c = seededRandom('y')
    const first = [a.next(), a.next(), a.hex(4), a.uuid()]
    expect([b.next(), b.next(), b.hex(4), b.uuid()]).toEqual(first)
    expect(c.next()).not.toBe(first[0])
    expect(a.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('generateVariants', () => {
  it('makes the same bytes from the same seed, numbered in order, every family at most count times', () => {
    const once = variants()
    const again = variants()
    expect(again.map((v) => [v.family, v.description, text(v), v.contentType])).toEqual(
      once.map((v) => [v.family, v.description, text(v), v.contentType]),
    )
    expect(once.map((v) => v.index)).toEqual(once.map((_, i) => i))
    for (const family of FUZZ_FAMILIES) {
      const n = once.filter((v) => v.family === family).length
      expect(n, family).toBeGreaterThan(0)
      expect(n, family).toBeLessThanOrEqual(40)
    }
    expect(variants({ seed: 'other' }).map(text)).not.toEqual(once.map(text))
  })

  it('gives every variant its own event id, and another id seed changes the ids only', () => {
    const ids = variants()
      .filter((v) => v.family === 'extra-field')
      .map((v) => (parse(v) as { id: unknown }).id)
    expect(new Set(ids).size).toBe(ids.length)
    const a = variants().filter((v) => v.family === 'type-shift')
    const b = variants({ idSeed: 'run 2' }).filter((v) => v.family === 'type-shift')
    expect(b.map((v) => v.description)).toEqual(a.map((v) => v.description))
    expect(b.map((v) => v.body.length)).toEqual(a.map((v) => v.body.length))
    expect(b.map(text)).not.toEqual(a.map(text))
  })

  it('drops exactly the field a missing-field variant names', () => {
    for (const variant of variants().filter(
      (v) => v.family === 'missing-field' && v.description.startsWith('drop /'),
    )) {
      const payload = parse(variant)
      const dropped = variant.description.slice('drop '.length).split(' and ')
      for (const pointer of dropped) {
        const path = pointer.split('/').slice(1)
        expect(getAt(payload, path), variant.description).toBeUndefined()
      }
    }
  })

  it('shifts the targeted field to another JSON type', () => {
    for (const variant of variants().filter((v) => v.family === 'type-shift')) {
      const path = (variant.target as string).split('/').slice(1)
      const to = variant.description.split(' → ')[1]?.split(' ')[0]
      expect(jsonType(getAt(parse(variant), path)), variant.description).toBe(to)
    }
  })

  it('writes odd extra keys such as __proto__ as real keys of the text', () => {
    const all = generateVariants({ samples: conduit.slice(0, 1), count: 1_000, seed: 1, families: ['extra-field'] })
    const proto = all.find((v) => v.description.startsWith('(the body): add "__proto__": '))
    expect(Object.keys(parse(proto as FuzzVariant) as object)).toContain('__proto__')
    expect(all.some((v) => v.description.includes('repeat the key "id"'))).toBe(true)
  })

  it('makes oversized bodies of exactly one byte under, at and over the limit', () => {
    const all = generateVariants({
      samples: conduit.slice(0, 1),
      count: 1_000,
      seed: 1,
      families: ['oversized'],
      maxBodyBytes: MAX,
    })
    for (const [label, size] of [
      ['one byte under the limit', MAX - 1],
      ['exactly the limit', MAX],
      ['one byte over the limit', MAX + 1],
    ] as const) {
      const sized = all.filter((v) => v.description.includes(label))
      expect(sized.length, label).toBeGreaterThan(0)
      for (const v of sized) expect(v.body.length, v.description).toBe(size)
    }
  })

  it('nests as deep as it says, never past the body limit', () => {
    for (const variant of variants({ count: 200 }).filter((v) => v.family === 'deep-nesting')) {
      const depth = Number(/nested (\d+) deep/.exec(variant.description)?.[1])
      expect(variant.body.length).toBeLessThanOrEqual(MAX)
      expect(nestedDeeperThan(variant.body, depth - 1), variant.description).toBe(true)
      expect(nestedDeeperThan(variant.body, depth + 3), variant.description).toBe(false)
    }
  })

  it('puts raw non-UTF-8 bytes in the bad-unicode variants that say so, and valid escapes in the others', () => {
    const all = variants({ count: 500 }).filter((v) => v.family === 'bad-unicode')
    const raw = all.filter(
      (v) =>
        !v.description.includes('escaped') &&
        /raw byte|overlong|encoded surrogate|over U\+10FFFF|truncated|lone/.test(v.description),
    )
    expect(raw.length).toBeGreaterThan(10)
    for (const v of raw) expect(isUtf8(v.body), v.description).toBe(false)
    for (const v of all.filter((v) => v.description.includes('escaped'))) expect(() => parse(v)).not.toThrow()
  })

  it('cuts truncated bodies so that none of them parses', () => {
    for (const variant of variants().filter((v) => v.family === 'truncated-json')) {
      expect(() => parse(variant), variant.description).toThrow()
    }
  })
})

describe('samplesFromSchema', () => {
  it('makes one valid sample per event type of the conduit schema, by its if/then cases', () => {
    const { ref, check } = validator('conduit-reports')
    const samples = samplesFromSchema(schemas.load(ref) as object, (r) => schemas.load(r))
    expect(samples.map((s) => (s as { type: string }).type)).toEqual([
      'report.completed',
      'report.failed',
      'matching.completed',
      'matching.failed',
    ])
    for (const sample of samples) expect(check(sample)).toEqual([])
  })

  it('makes valid video samples with a UUID task id and the type-specific required fields', () => {
    const { ref, check } = validator('video-generation')
    const samples = samplesFromSchema(schemas.load(ref) as object, (r) => schemas.load(r))
    expect(samples).toHaveLength(4)
    for (const sample of samples) expect(check(sample)).toEqual([])
  })
})

describe('json paths', () => {
  it('lists paths parents first and removes array items without holes', () => {
    const value = { a: [1, { b: 2 }], c: 'x' }
    expect(listPaths(value).map(toPointer)).toEqual(['/a', '/a/0', '/a/1', '/a/1/b', '/c'])
    expect(withoutAt(value, ['a', 0])).toEqual({ a: [{ b: 2 }], c: 'x' })
    expect(toPointer(['a/b', 'c~d'])).toBe('/a~1b/c~0d')
  })
})

describe('nestedDeeperThan (the ingress limit)', () => {
  it('counts brackets outside strings only', () => {
    const body = (text: string) => Buffer.from(text)
    expect(nestedDeeperThan(body('{"a":[[1]]}'), 2)).toBe(true)
    expect(nestedDeeperThan(body('{"a":[[1]]}'), 3)).toBe(false)
    expect(nestedDeeperThan(body(`{"a":"${'['.repeat(500)}"}`), 2)).toBe(false)
    expect(nestedDeeperThan(body(`{"a":"\\"${'['.repeat(500)}"}`), 2)).toBe(false)
    expect(nestedDeeperThan(body('['.repeat(MAX_BODY_NESTING + 1)), MAX_BODY_NESTING)).toBe(true)
  })
})
