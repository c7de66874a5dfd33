/** @module Graph checks: each rejects a broken flow with a message that names the node and the field. */
import { describe, expect, it } from 'vitest'
import { schemaDirectory } from '../../runtime/files/schema-directory.ts'
import { checkFlow, type FlowIssue, type FlowIssueCode } from '../../runtime/model/graph-checks.ts'
import type { FlowDocument, FlowEdge, FlowNode } from '../../runtime/model/types.ts'
import { nodeKinds } from '../../runtime/nodes/index.ts'
import { readFlow, SCHEMAS_DIR } from '../support/paths.ts'

const schemas = schemaDirectory(SCHEMAS_DIR)
const schemaExists = (ref: string) => schemas.load(ref) !== undefined

const VERIFY: FlowNode = {
  id: 'verify',
  kind: 'verify',
  config: { scheme: 'stripe', header: 'conduit-signature', secret: { ref: 'CONDUIT_WEBHOOK_SECRET' } },
}
const MAP: FlowNode = { id: 'map', kind: 'transform', config: { expression: '{ "id": id }' } }
const CALL: FlowNode = {
  id: 'call',
  kind: 'http',
  config: { method: 'POST', url: '{{$vars.CRM_BASE_URL}}/items/{{id}}', headers: { 'x-api-key': { ref: 'CRM_KEY' } } },
}

/** A small valid flow, verify → map → call, with whatever is changed on top. */
function flow(
  changes: { nodes?: FlowNode[]; edges?: FlowEdge[] } & Partial<Omit<FlowDocument, 'nodes' | 'edges'>> = {},
) {
  return {
    schemaVersion: 1,
    id: 'test-flow',
    version: 1,
    name: 'Test flow',
    trigger: { path: 'test/flow', respond: 'accepted' },
    nodes: [VERIFY, MAP, CALL],
    edges: [
      { from: 'verify', port: 'ok', to: 'map' },
      { from: 'map', port: 'ok', to: 'call' },
    ],
    ...changes,
  }
}

function check(input: unknown): FlowIssue[] {
  return checkFlow(input, { kinds: nodeKinds, schemaExists })
}

/** The one issue of `code`; the message names the node (when there is one) and the field. */
function issueOf(input: unknown, code: FlowIssueCode): FlowIssue {
  const issues = check(input)
  const matching = issues.filter((i) => i.code === code)
  expect(matching, JSON.stringify(issues, null, 2)).toHaveLength(1)
  const issue = matching[0] as FlowIssue
  if (issue.nodeId !== undefined) expect(issue.message).toContain(`"${issue.nodeId}"`)
  if (issue.field !== undefined) expect(issue.message).toContain(issue.field)
  return issue
}

function withNode(node: FlowNode, from = 'map', port = 'ok'): ReturnType<typeof flow> {
  return flow({
    nodes: [VERIFY, MAP, node],
    edges: [
      { from: 'verify', port: 'ok', to: 'map' },
      { from, port, to: node.id },
    ],
  })
}

describe('graph checks', () => {
  it('accepts the small valid flow the other cases start from', () => {
    expect(check(flow())).toEqual([])
  })

  for (const id of ['conduit-reports', 'video-generation']) {
    it(`accepts the example flow ${id} with no issues`, () => {
      expect(check(readFlow(id))).toEqual([])
    })
  }

  describe('kinds and ports', () => {
    it('rejects a node of an unknown kind, naming the node and kind', () => {
      const input = withNode({ id: 'teleport', kind: 'teleport', config: {} })
      expect(issueOf(input, 'unknown_kind')).toMatchObject({ nodeId: 'teleport', field: 'kind' })
      expect(issueOf(input, 'unknown_kind').message).toContain('"teleport" is not one of verify, validate')
    })

    it('rejects an edge from a port the node does not have, listing the ports it has', () => {
      const input = flow({
        edges: [
          { from: 'verify', port: 'verified', to: 'map' },
          { from: 'map', port: 'ok', to: 'call' },
        ],
      })
      const found = issueOf(input, 'unknown_port')
      expect(found).toMatchObject({ nodeId: 'verify', field: 'edges[0].port' })
      expect(found.message).toContain('no port "verified" (ports: ok, invalid)')
    })

    it('rejects an edge that leaves a node that does not exist', () => {
      const input = flow({ edges: [...flow().edges, { from: 'ghost', port: 'ok', to: 'call' }] })
      expect(issueOf(input, 'edge_from_missing')).toMatchObject({ nodeId: 'ghost', field: 'edges[2].from' })
    })

    it('rejects an edge that goes to a node that does not exist', () => {
      const input = flow({ edges: [...flow().edges, { from: 'map', port: 'error', to: 'ghost' }] })
      const found = issueOf(input, 'edge_to_missing')
      expect(found).toMatchObject({ nodeId: 'map', field: 'edges[2].to' })
      expect(found.message).toContain('"ghost"')
    })

    it('rejects the same edge drawn twice', () => {
      const input = flow({ edges: [...flow().edges, { from: 'map', port: 'ok', to: 'call' }] })
      expect(issueOf(input, 'duplicate_edge')).toMatchObject({ nodeId: 'map', field: 'edges[2]' })
    })

    it('rejects two nodes with the same id', () => {
      const input = flow({ nodes: [VERIFY, MAP, CALL, { ...MAP, config: { expression: '$' } }] })
      expect(issueOf(input, 'duplicate_node')).toMatchObject({ nodeId: 'map', field: 'id' })
    })
  })

  describe('shape', () => {
    it('rejects a cycle, naming the nodes on it', () => {
      const other: FlowNode = { id: 'remap', kind: 'transform', config: { expression: '$' } }
      const input = flow({
        nodes: [VERIFY, MAP, other],
        edges: [
          { from: 'verify', port: 'ok', to: 'map' },
          { from: 'map', port: 'ok', to: 'remap' },
          { from: 'remap', port: 'ok', to: 'map' },
        ],
      })
      const found = issueOf(input, 'cycle')
      expect(found).toMatchObject({ nodeId: 'map', field: 'edges' })
      expect(found.message).toContain('"map" → "remap" → "map"')
    })

    it('rejects a flow in which every node has an incoming edge', () => {
      const input = flow({
        nodes: [MAP, { id: 'remap', kind: 'transform', config: { expression: '$' } }],
        edges: [
          { from: 'map', port: 'ok', to: 'remap' },
          { from: 'remap', port: 'ok', to: 'map' },
        ],
      })
      // There is no node to name, and the message is a sentence of its own rather than "<field>: …".
      expect(check(input).filter((i) => i.code === 'no_entry')).toEqual([
        expect.objectContaining({ field: 'edges', message: expect.stringContaining('no node receives the webhook') }),
      ])
    })

    it('rejects a second node that no edge enters, as unreachable from the entry', () => {
      const input = flow({ nodes: [VERIFY, MAP, CALL, { ...MAP, id: 'stray' }] })
      const found = issueOf(input, 'unreachable')
      expect(found).toMatchObject({ nodeId: 'stray', field: 'edges' })
      expect(found.message).toContain('entry node "verify"')
    })

    it('rejects a node reachable only from a cycle that the entry does not reach', () => {
      const input = flow({
        nodes: [VERIFY, MAP, { ...MAP, id: 'loop-a' }, { ...MAP, id: 'loop-b' }, { ...CALL, id: 'tail' }],
        edges: [
          { from: 'verify', port: 'ok', to: 'map' },
          { from: 'loop-a', port: 'ok', to: 'loop-b' },
          { from: 'loop-b', port: 'ok', to: 'loop-a' },
          { from: 'loop-b', port: 'error', to: 'tail' },
        ],
      })
      const unreachable = check(input).filter((i) => i.code === 'unreachable')
      expect(unreachable.map((i) => i.nodeId)).toEqual(['loop-a', 'loop-b', 'tail'])
      expect(issueOf(input, 'cycle').nodeId).toBe('loop-a')
    })
  })

  describe('node config', () => {
    it('rejects a config field of the wrong type', () => {
      const input = withNode({ id: 'once', kind: 'dedupe', config: { key: 'id', ttlSec: 'a week' } })
      const found = issueOf(input, 'invalid_config')
      expect(found).toMatchObject({ nodeId: 'once', field: 'config.ttlSec' })
      expect(found.message).toContain('must be integer')
    })

    it('rejects a config that lacks a required field', () => {
      const input = flow({ nodes: [{ ...VERIFY, config: { scheme: 'stripe' } }, MAP, CALL] })
      expect(issueOf(input, 'invalid_config')).toMatchObject({ nodeId: 'verify', field: 'config.secret' })
    })

    it('rejects a config field the kind does not have', () => {
      const input = flow({ nodes: [VERIFY, { ...MAP, config: { expression: '$', expresion: '$' } }, CALL] })
      const found = issueOf(input, 'invalid_config')
      expect(found).toMatchObject({ nodeId: 'map', field: 'config.expresion' })
      expect(found.message).toContain('additional properties')
    })

    it('rejects an http method that is not one of the listed ones', () => {
      const input = flow({ nodes: [VERIFY, MAP, { ...CALL, config: { ...CALL.config, method: 'FETCH' } }] })
      expect(issueOf(input, 'invalid_config')).toMatchObject({ nodeId: 'call', field: 'config.method' })
    })
  })

  describe('literal secrets', () => {
    it('rejects a secret value written where a { ref } belongs', () => {
      const input = flow({ nodes: [{ ...VERIFY, config: { ...VERIFY.config, secret: 'whsec_abc' } }, MAP, CALL] })
      const found = issueOf(input, 'literal_secret')
      expect(found).toMatchObject({ nodeId: 'verify', field: 'config.secret' })
      expect(found.message).toContain('{ "ref": "NAME" }')
    })

    it('rejects a literal value in a credential header such as x-api-key', () => {
      const config = { ...CALL.config, headers: { 'x-api-key': 'abc123def456' } }
      const input = flow({ nodes: [VERIFY, MAP, { ...CALL, config }] })
      expect(issueOf(input, 'literal_secret')).toMatchObject({ nodeId: 'call', field: 'config.headers.x-api-key' })
    })

    it('accepts a literal value in an ordinary header', () => {
      const config = { ...CALL.config, headers: { 'x-source': 'mapper-studio' } }
      expect(check(flow({ nodes: [VERIFY, MAP, { ...CALL, config }] }))).toEqual([])
    })

    it('rejects a whsec_ secret written inside an expression', () => {
      const config = { expression: '{ "id": id, "key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }' }
      const found = issueOf(flow({ nodes: [VERIFY, { ...MAP, config }, CALL] }), 'literal_secret')
      expect(found).toMatchObject({ nodeId: 'map', field: 'config.expression' })
      expect(found.message).toContain('whsec_')
    })

    it('rejects a Bearer token written as a header value, whatever the header is called', () => {
      const config = { ...CALL.config, headers: { 'x-upstream': 'Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig' } }
      const found = issueOf(flow({ nodes: [VERIFY, MAP, { ...CALL, config }] }), 'literal_secret')
      expect(found).toMatchObject({ nodeId: 'call', field: 'config.headers.x-upstream' })
      expect(found.message).toContain('bearer token')
    })
  })

  describe('expressions and schemas', () => {
    it('rejects a transform expression JSONata cannot parse, with the parser’s message', () => {
      const found = issueOf(
        flow({ nodes: [VERIFY, { ...MAP, config: { expression: '{ "id": }' } }, CALL] }),
        'invalid_expression',
      )
      expect(found).toMatchObject({ nodeId: 'map', field: 'config.expression' })
      expect(found.message).toContain('JSONata:')
    })

    it('rejects a branch case whose condition JSONata cannot parse, naming the case', () => {
      const node: FlowNode = {
        id: 'route',
        kind: 'branch',
        config: {
          cases: [
            { port: 'yes', when: 'true' },
            { port: 'no', when: 'type = ' },
          ],
        },
      }
      expect(issueOf(withNode(node), 'invalid_expression')).toMatchObject({
        nodeId: 'route',
        field: 'config.cases[1].when',
      })
    })

    it('rejects a URL template whose placeholder JSONata cannot parse', () => {
      const config = { ...CALL.config, url: 'https://crm.test/items/{{ id + }}' }
      const found = issueOf(flow({ nodes: [VERIFY, MAP, { ...CALL, config }] }), 'invalid_expression')
      expect(found).toMatchObject({ nodeId: 'call', field: 'config.url' })
    })

    it('rejects a validate node whose schema reference is not under schemas/', () => {
      const node: FlowNode = { id: 'shape', kind: 'validate', config: { schema: 'conduit/report.deleted.v1' } }
      const found = issueOf(withNode(node, 'verify'), 'unknown_schema')
      expect(found).toMatchObject({ nodeId: 'shape', field: 'config.schema' })
      expect(found.message).toContain('conduit/report.deleted.v1')
    })

    it('accepts a schema reference that exists under schemas/', () => {
      const node: FlowNode = { id: 'shape', kind: 'validate', config: { schema: 'conduit/report.completed.v1' } }
      expect(check(withNode(node, 'verify'))).toEqual([])
    })
  })

  describe('respond', () => {
    it('rejects a respond node in a flow that answers before it runs', () => {
      const node: FlowNode = { id: 'answer', kind: 'respond', config: { status: 200 } }
      expect(issueOf(withNode(node), 'respond_needs_completed')).toMatchObject({ nodeId: 'answer', field: 'kind' })
    })

    it('accepts a respond node when the trigger waits for completion', () => {
      const node: FlowNode = { id: 'answer', kind: 'respond', config: { status: 200 } }
      const input = { ...withNode(node), trigger: { path: 'test/flow', respond: 'completed' } }
      expect(check(input)).toEqual([])
    })
  })

  describe('document fields', () => {
    it('rejects an id that is not a slug, naming the field', () => {
      const found = issueOf(flow({ id: 'Test Flow' }), 'invalid_document')
      expect(found).toMatchObject({ field: 'id' })
      expect(found.message).toMatch(/^id /)
    })

    it('rejects version 0, naming the field', () => {
      const found = issueOf(flow({ version: 0 }), 'invalid_document')
      expect(found).toMatchObject({ field: 'version' })
      expect(found.message).toContain('must be >= 1')
    })

    it('rejects a trigger without a path, naming trigger.path', () => {
      const found = issueOf(flow({ trigger: { respond: 'accepted' } as FlowDocument['trigger'] }), 'invalid_document')
      expect(found).toMatchObject({ field: 'trigger.path' })
    })

    it('rejects a bad node id, naming the node by its id', () => {
      const found = issueOf(flow({ nodes: [VERIFY, MAP, { ...CALL, id: '9 call' }] }), 'invalid_document')
      expect(found).toMatchObject({ nodeId: '9 call', field: 'id' })
    })
  })
})
