/** @module The deployed flows of a runtime: compiled once per version, found by webhook path. */
import { type CompiledFlow, compileFlow, type SchemaSource } from '../engine/compile.ts'
import type { NodeKind } from '../model/node-kind.ts'
import type { Store } from '../store/store.ts'

export class FlowRegistry {
  private readonly compiled = new Map<string, CompiledFlow>()
  private byPath = new Map<string, CompiledFlow>()

  constructor(
    private readonly store: Store,
    private readonly kinds: ReadonlyMap<string, NodeKind>,
    private readonly schemas: SchemaSource,
  ) {}

  /** The compiled flow of one version; in-flight work keeps the version it started with. */
  async version(flowId: string, version: number): Promise<CompiledFlow> {
    const key = `${flowId}@${version}`
    const cached = this.compiled.get(key)
    if (cached) return cached
    const record = await this.store.getFlowVersion(flowId, version)
    if (!record) throw new Error(`flow ${flowId} has no version ${version}`)
    const flow = compileFlow(record.document, { kinds: this.kinds, schemas: this.schemas })
    this.compiled.set(key, flow)
    return flow
  }

  /** Re-reads which versions are deployed; a deploy seen here takes the next webhook. */
  async refresh(): Promise<void> {
    const deployed = await this.store.deployedFlows()
    const byPath = new Map<string, CompiledFlow>()
    for (const [flowId, version] of deployed) {
      const flow = await this.version(flowId, version)
      byPath.set(flow.doc.trigger.path, flow)
    }
    this.byPath = byPath
  }

  forPath(path: string): CompiledFlow | undefined {
    return this.byPath.get(path)
  }

  deployed(): CompiledFlow[] {
    return [...this.byPath.values()]
  }
}
