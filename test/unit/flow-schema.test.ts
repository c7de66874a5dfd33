/** @module schemas/flow.schema.json: generated from the flow model, and what users' editors validate flows against. */
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { FLOW_SCHEMA_PATH, flowSchemaText } from '../../scripts/write-flow-schema.ts'
import { readFlow } from '../support/paths.ts'

// ajv-formats is CommonJS; depending on the loader its default export may arrive wrapped.
type AddFormats = typeof addFormatsModule.default
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats)

const EXAMPLE_FLOWS = ['conduit-reports', 'video-generation']

/** A plain draft-07 ajv, as a user's editor would have: none of the runtime's own formats or keywords. */
function compileFlowSchema() {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false })
  addFormats(ajv)
  return ajv.compile(JSON.parse(readFileSync(FLOW_SCHEMA_PATH, 'utf8')) as object)
}

function cloneFlow(id: string): { nodes: Array<{ kind: string; config: Record<string, unknown> }> } {
  return structuredClone(readFlow(id)) as { nodes: Array<{ kind: string; config: Record<string, unknown> }> }
}

describe('schemas/flow.schema.json', () => {
  it('holds exactly what scripts/write-flow-schema.ts writes', () => {
    const onDisk = readFileSync(FLOW_SCHEMA_PATH, 'utf8')
    expect(onDisk, 'schemas/flow.schema.json is stale: run `npx tsx scripts/write-flow-schema.ts`').toBe(
      flowSchemaText(),
    )
  })

  it('declares draft-07 so that editors pick the right dialect', () => {
    expect(JSON.parse(readFileSync(FLOW_SCHEMA_PATH, 'utf8'))).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
    })
  })

  for (const id of EXAMPLE_FLOWS) {
    it(`accepts the example flow ${id}`, () => {
      const validate = compileFlowSchema()
      expect(validate(readFlow(id)), JSON.stringify(validate.errors)).toBe(true)
    })
  }

  it('rejects a node whose kind is not registered', () => {
    const flow = cloneFlow('conduit-reports')
    const node = flow.nodes[0]
    if (!node) throw new Error('the example flow has no nodes')
    node.kind = 'teleport'
    const validate = compileFlowSchema()
    expect(validate(flow)).toBe(false)
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/nodes/0/kind')
  })

  it('rejects a verify node whose config has no secret', () => {
    const flow = cloneFlow('conduit-reports')
    const node = flow.nodes.find((n) => n.kind === 'verify')
    if (!node) throw new Error('the example flow has no verify node')
    delete node.config.secret
    const validate = compileFlowSchema()
    expect(validate(flow)).toBe(false)
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/nodes/0/config', params: { missingProperty: 'secret' } }),
    )
  })

  it('rejects a secret written as a plain string where a reference belongs', () => {
    const flow = cloneFlow('conduit-reports')
    const node = flow.nodes.find((n) => n.kind === 'verify')
    if (!node) throw new Error('the example flow has no verify node')
    node.config.secret = 'whsec_written_into_the_flow'
    expect(compileFlowSchema()(flow)).toBe(false)
  })
})
