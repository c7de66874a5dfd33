/** @module Secrets from the environment: NAME, and NAME_PREVIOUS still valid during a rotation. */

export const PREVIOUS_SUFFIX = '_PREVIOUS'

/** Every valid value of a secret, the newest first. */
export function envSecret(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const values = [env[name], env[`${name}${PREVIOUS_SUFFIX}`]]
  return values.filter((value): value is string => typeof value === 'string' && value !== '')
}

/** The process environment does not change under a running runtime: read each secret once. */
export function cachedEnvSecrets(env: NodeJS.ProcessEnv = process.env): (name: string) => string[] {
  const cache = new Map<string, string[]>()
  return (name) => {
    let values = cache.get(name)
    if (!values) {
      values = envSecret(name, env)
      cache.set(name, values)
    }
    return values
  }
}

/** `$vars` for expressions: every MAPPER_VAR_<NAME> variable, as NAME. */
export function envVars(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('MAPPER_VAR_') && value !== undefined) vars[key.slice('MAPPER_VAR_'.length)] = value
  }
  return vars
}
