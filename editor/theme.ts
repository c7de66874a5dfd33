/** @module The colour of each node kind, from the kinds' own declarations, as CSS variables (`--kind-verify`…). */
import { nodeKindList } from '../runtime/nodes/index.ts'

export function installKindColours(): void {
  const style = document.createElement('style')
  style.dataset.kindColours = ''
  style.textContent = `:root {\n${nodeKindList.map((k) => `  --kind-${k.kind}: ${k.color};`).join('\n')}\n}`
  document.head.append(style)
}
