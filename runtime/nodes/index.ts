/** @module The registry of node kinds: adding a kind is one file and one line here. Browser-safe. */
import type { NodeKind } from '../model/node-kind.ts'
import { branch } from './branch.ts'
import { dedupe } from './dedupe.ts'
import { http } from './http.ts'
import { respond } from './respond.ts'
import { transform } from './transform.ts'
import { validate } from './validate.ts'
import { verify } from './verify.ts'

export const nodeKindList: readonly NodeKind[] = [verify, validate, dedupe, transform, branch, http, respond] as never

export const nodeKinds: ReadonlyMap<string, NodeKind> = new Map(nodeKindList.map((kind) => [kind.kind, kind]))

export function findNodeKind(kind: string): NodeKind | undefined {
  return nodeKinds.get(kind)
}
