/** @module The deployed flows of a runtime: compiled once per version, found by webhook path, canaries included. */
import { type CompiledFlow, compileFlow, type SchemaSource } from '../engine/compile.ts'
import type { NodeKind } from '../model/node-kind.ts'
import type { CanaryDeployment, Store } from '../store/store.ts'
import { canaryBucket, splitKey } from './canary-split.ts'

/** What takes a webhook path's new events: the stable version, and a candidate beside it while a canary runs. */
interface PathDeployment {
  stable: CompiledFlow
  canary?: { flow: CompiledFlow; percent: number }
}

export class FlowRegistry {
  private readonly compiled = new Map<string, CompiledFlow>()
  private byPath = new Map<string, PathDeployment>()
  private canaries = new Map<string, CanaryDeployment>()

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
    const deployments = await this.store.deployments()
    const byPath = new Map<string, PathDeployment>()
    const canaries = new Map<string, CanaryDeployment>()
    for (const [flowId, deployment] of deployments) {
      const stable = await this.version(flowId, deployment.version)
      const entry: PathDeployment = { stable }
      if (deployment.canary) {
        // A candidate is served at its stable version's path: the API refuses one that moves the path.
        entry.canary = {
          flow: await this.version(flowId, deployment.canary.version),
          percent: deployment.canary.percent,
        }
        canaries.set(flowId, deployment.canary)
      }
      byPath.set(stable.doc.trigger.path, entry)
    }
    this.byPath = byPath
    this.canaries = canaries
  }

  /** The stable version deployed at a path: routing, rate limits and body limits follow it. */
  forPath(path: string): CompiledFlow | undefined {
    return this.byPath.get(path)?.stable
  }

  /**
   * The version a new delivery to `stable`'s path runs on: the stable one, or while a canary runs the
   * candidate for the share of events whose key hashes below its percent (see canary-split.ts).
   */
  async versionFor(stable: CompiledFlow, headers: Record<string, string>, rawBody: string): Promise<CompiledFlow> {
    const entry = this.byPath.get(stable.doc.trigger.path)
    // A deploy seen since `stable` was looked up: this delivery keeps the version it was routed to.
    if (!entry?.canary || entry.stable !== stable) return stable
    const canary = entry.canary
    const bucket = canaryBucket(stable.doc.id, await splitKey(stable, headers, rawBody))
    return bucket < canary.percent ? canary.flow : stable
  }

  /** The canary running for a flow, as this process last read it. */
  canary(flowId: string): CanaryDeployment | undefined {
    return this.canaries.get(flowId)
  }

  /** The stable versions. */
  deployed(): CompiledFlow[] {
    return [...this.byPath.values()].map((entry) => entry.stable)
  }
}
