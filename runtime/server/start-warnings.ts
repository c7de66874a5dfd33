/**
 * @module What a runtime says at start about deployed flows it cannot run as configured: `$vars` it was started
 * without, and secrets neither its store nor its environment holds. Each would fail every call of the flow.
 */
import type { FlowRegistry } from '../deploy/flow-registry.ts'
import { varNamesIn } from '../model/template.ts'
import { isSecretRef } from '../model/types.ts'
import type { Logger } from './logger.ts'

export function warnOfMissingSettings(
  registry: FlowRegistry,
  settings: { vars: Record<string, string>; secret: (name: string) => string[] },
  logger: Logger,
): void {
  for (const { doc } of registry.deployed()) {
    const unset = varNamesIn(JSON.stringify(doc.nodes)).filter((name) => settings.vars[name] === undefined)
    if (unset.length > 0)
      logger.warn(
        { flowId: doc.id, flowVersion: doc.version, unset },
        `flow ${doc.id} reads ${unset.map((n) => `$vars.${n}`).join(', ')}, not set here: start with ${unset
          .map((n) => `MAPPER_VAR_${n}`)
          .join(', ')} (or --var NAME=value)`,
      )
    const missing = secretNamesIn(doc.nodes).filter((name) => settings.secret(name).length === 0)
    if (missing.length > 0)
      logger.warn(
        { flowId: doc.id, flowVersion: doc.version, unsetSecrets: missing },
        `flow ${doc.id} reads the secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not set: ` +
          '`mapper secret set NAME` (or PUT /api/secrets/NAME) or an environment variable of that name',
      )
  }
}

/** The names of the `{ "ref": NAME }` secrets anywhere in a value, each once. */
function secretNamesIn(value: unknown, names = new Set<string>()): string[] {
  if (isSecretRef(value)) names.add(value.ref)
  else if (Array.isArray(value)) for (const item of value) secretNamesIn(item, names)
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) secretNamesIn(item, names)
  return [...names]
}
