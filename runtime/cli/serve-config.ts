/**
 * @module Every `mapper serve` setting, declared once: flag, environment variable, default, description and
 * whether it is a secret. The command's options, `mapper serve --print-config` and docs/configuration.md
 * (scripts/write-config-doc.ts) are all made from this list, so none of them can drift from the others.
 *
 * Precedence: a flag beats its environment variable, which beats the default.
 */
import { InvalidArgumentError, Option } from 'commander'
import { DEFAULT_QUEUE_HIGH_WATER } from '../server/runtime.ts'
import { DEFAULT_RECONCILE_AFTER_MS } from '../server/unreconciled-count.ts'
import { DEFAULT_LEASE_MS } from '../worker/flow-worker.ts'

/** What `mapper serve` runs with, once flags, environment and defaults are resolved. */
export interface ServeConfig {
  flows: string
  schemas: string
  data: string
  store: string | undefined
  host: string
  port: number
  tlsCert: string | undefined
  tlsKey: string | undefined
  drainDelayMs: number
  queueHighWater: number
  leaseMs: number
  reconcileAfterMs: number
  workers: boolean
  vars: Record<string, string>
  logLevel: string
  adminToken: string | undefined
  secretKey: string | undefined
}

export interface ServeSetting<T> {
  /** As commander spells it (`--port <n>`); absent for what only the environment sets. */
  flag?: string
  /** The environment variable read when the flag is absent. */
  env?: string
  default?: T
  /** The default in words where it is not one value; `<data>` stands for the data directory. */
  defaultText?: string
  description: string
  /** Masked by --print-config: `value` hides all of it, `url` only the password inside a URL. */
  secret?: 'value' | 'url'
  /** The flag may be given several times; each gives a NAME=value pair. */
  repeatable?: boolean
  /** Turns the flag's or the variable's text into the value; throws with a message saying what it wants. */
  parse(text: string): T
  /** The value in words for --print-config, where the plain value would read ambiguously. */
  describe?(value: T): string
}

/** How long /readyz answers 503 after SIGTERM, while webhooks are still taken, before the listener closes. */
export const DEFAULT_DRAIN_DELAY_MS = 2_000
export const DEFAULT_PORT = 8080
/** `$vars.NAME` comes from MAPPER_VAR_NAME. */
export const VAR_ENV_PREFIX = 'MAPPER_VAR_'
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export const SERVE_SETTINGS: { readonly [K in keyof ServeConfig]: ServeSetting<ServeConfig[K]> } = {
  flows: {
    flag: '--flows <dir>',
    env: 'MAPPER_FLOWS',
    default: 'flows',
    description:
      'flow documents (`<id>.flow.json`) to load at start; a changed file is saved as the next version and deployed',
    parse: text,
  },
  schemas: {
    flag: '--schemas <dir>',
    env: 'MAPPER_SCHEMAS',
    default: 'schemas',
    description: 'event schemas (`<source>/<event>.v<N>.schema.json`) that validate nodes refer to',
    parse: text,
  },
  data: {
    flag: '--data <dir>',
    env: 'MAPPER_DATA',
    default: '.mapper',
    description: 'data directory of the embedded SQLite store: `mapper.db` (with its -wal and -shm) and `secret.key`',
    parse: text,
  },
  store: {
    flag: '--store <url>',
    env: 'MAPPER_STORE',
    defaultText: 'SQLite in --data',
    description:
      'store URL: `postgres://user:password@host:5432/db` (several runtimes on one database: docs/deployment.md) ' +
      'or `sqlite:DIR`',
    secret: 'url',
    parse: text,
  },
  host: {
    flag: '--host <host>',
    env: 'MAPPER_HOST',
    default: '127.0.0.1',
    description: 'address to listen on; `0.0.0.0` (or `::`) to take traffic from other machines or containers',
    parse: text,
  },
  port: {
    flag: '--port <n>',
    env: 'PORT',
    default: DEFAULT_PORT,
    description: 'port to listen on (0: any free port)',
    parse: integer(0, 65_535),
  },
  tlsCert: {
    flag: '--tls-cert <file>',
    env: 'MAPPER_TLS_CERT',
    defaultText: 'plain HTTP',
    description: 'PEM certificate chain: serve HTTPS (TLS 1.2 and 1.3 only) with --tls-key; SIGHUP reloads both files',
    parse: text,
  },
  tlsKey: {
    flag: '--tls-key <file>',
    env: 'MAPPER_TLS_KEY',
    defaultText: 'plain HTTP',
    description: 'PEM private key of --tls-cert',
    parse: text,
  },
  drainDelayMs: {
    flag: '--drain-delay-ms <n>',
    env: 'MAPPER_DRAIN_DELAY_MS',
    default: DEFAULT_DRAIN_DELAY_MS,
    description:
      'after SIGTERM, how long /readyz answers 503 while webhooks are still taken, so the load balancer stops ' +
      'sending before the listener closes; SIGINT or a second signal skips it',
    parse: integer(0),
  },
  queueHighWater: {
    flag: '--queue-high-water <n>',
    env: 'MAPPER_QUEUE_HIGH_WATER',
    default: DEFAULT_QUEUE_HIGH_WATER,
    description: 'pending work items above which webhooks are answered 503 with Retry-After (backpressure)',
    parse: integer(1),
  },
  leaseMs: {
    flag: '--lease-ms <n>',
    env: 'MAPPER_LEASE_MS',
    default: DEFAULT_LEASE_MS,
    description: "how long a worker holds a work item; a crashed process's items are taken again after it",
    parse: integer(1),
  },
  reconcileAfterMs: {
    flag: '--reconcile-after-ms <n>',
    env: 'MAPPER_RECONCILE_AFTER_MS',
    default: DEFAULT_RECONCILE_AFTER_MS,
    description:
      'an event accepted this long ago with no terminal state is unreconciled: listed by `mapper reconcile` and ' +
      'counted by `mapper_unreconciled_events`; keep it above the longest retry schedule of your flows',
    parse: integer(1),
  },
  workers: {
    flag: '--no-workers',
    env: 'MAPPER_WORKERS',
    default: true,
    defaultText: 'workers run',
    description: 'run no workers in this process (ingest only); the variable takes `true` or `false`',
    parse: boolean,
    describe: (on) => (on ? 'true (workers run in this process)' : 'false (ingest only)'),
  },
  vars: {
    flag: '--var <name=value>',
    env: `${VAR_ENV_PREFIX}<NAME>`,
    defaultText: 'none',
    description: '`$vars.NAME` in expressions, for values that are not secret such as base URLs (flag repeatable)',
    repeatable: true,
    parse: namedValue,
  },
  logLevel: {
    flag: '--log-level <level>',
    env: 'MAPPER_LOG_LEVEL',
    default: 'info',
    description: `structured JSON log level: ${LOG_LEVELS.join(', ')}`,
    parse: oneOf(LOG_LEVELS),
  },
  adminToken: {
    env: 'MAPPER_ADMIN_TOKEN',
    defaultText: 'on the first start of an empty store one is made and printed once',
    description: 'the admin API token for scripts and CI (environment only: a flag would show in `ps`)',
    secret: 'value',
    parse: text,
  },
  secretKey: {
    env: 'MAPPER_SECRET_KEY',
    defaultText: '`<data>/secret.key`, made on the first start',
    description:
      'encrypts secret values at rest: 32 bytes in base64 (`openssl rand -base64 32`); required with a shared store',
    secret: 'value',
    parse: text,
  },
}

/** Variables the runtime reads that are not settings of its own: named by flows, or for diagnostics. */
export const OTHER_RUNTIME_ENVIRONMENT: ReadonlyArray<{ env: string; description: string }> = [
  {
    env: '<NAME>, <NAME>_PREVIOUS',
    description:
      'a secret a flow references as `{ "ref": "NAME" }`, when the secret store (`mapper secret`, ' +
      '`PUT /api/secrets/:name`) does not hold it; `_PREVIOUS` stays valid during a rotation',
  },
  {
    env: 'MAPPER_PROFILE_WRITER',
    description: 'a directory: the SQLite writer thread writes a CPU profile there when it stops (diagnostics)',
  },
]

export type SettingKey = keyof ServeConfig
export type SettingSource = 'flag' | 'env' | 'default' | 'unset'

/** One line of the effective configuration: a setting (or one `$vars` name), its value and where it came from. */
export interface EffectiveSetting {
  key: SettingKey
  /** The flag's long name (`--port`), or the variable for environment-only settings. */
  name: string
  env?: string
  value: unknown
  /** The value as --print-config shows it: secrets masked, unset ones described. */
  shown: string
  source: SettingSource
}

export interface ResolvedServeConfig {
  config: ServeConfig
  settings: EffectiveSetting[]
}

/** A flag or variable with a value the setting does not take, or settings that do not go together. */
export class ServeConfigError extends Error {
  override name = 'ServeConfigError'
}

export const SETTING_KEYS = Object.keys(SERVE_SETTINGS) as SettingKey[]

function setting(key: SettingKey): ServeSetting<unknown> {
  return SERVE_SETTINGS[key] as ServeSetting<unknown>
}

/** The commander options of `mapper serve`, from the list. Defaults stay out: resolveServeConfig applies them. */
export function serveOptions(): Option[] {
  const options: Option[] = []
  for (const key of SETTING_KEYS) {
    const declared = setting(key)
    if (!declared.flag) continue
    const option = new Option(declared.flag, helpText(declared))
    if (option.required || option.optional) {
      option.argParser((value: string, previous: unknown) => {
        let parsed: unknown
        try {
          parsed = declared.parse(value)
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message)
        }
        return declared.repeatable ? { ...(previous as object | undefined), ...(parsed as object) } : parsed
      })
    }
    options.push(option)
  }
  return options
}

/** The attribute commander stores a setting's flag under (`--no-workers` → `workers`, `--var` → `var`). */
export function flagAttribute(key: SettingKey): string | undefined {
  const { flag } = setting(key)
  return flag === undefined ? undefined : new Option(flag).attributeName()
}

/**
 * The effective configuration: each setting from its flag (when given on the command line), else its
 * environment variable, else its default. `flags` holds only what was given on the command line.
 */
export function resolveServeConfig(
  flags: Partial<Record<SettingKey, unknown>>,
  env: NodeJS.ProcessEnv,
): ResolvedServeConfig {
  const values: Partial<Record<SettingKey, unknown>> = {}
  const settings: EffectiveSetting[] = []
  for (const key of SETTING_KEYS) {
    const declared = setting(key)
    if (key === 'vars') {
      const vars = resolveVars(flags.vars as Record<string, string> | undefined, env)
      values.vars = Object.fromEntries(vars.map((v) => [v.name, v.value]))
      for (const v of vars) {
        settings.push({
          key,
          name: `--var ${v.name}`,
          env: `${VAR_ENV_PREFIX}${v.name}`,
          value: v.value,
          shown: v.value,
          source: v.source,
        })
      }
      continue
    }
    let value: unknown
    let source: SettingSource = 'unset'
    const fromEnv = declared.env === undefined ? undefined : env[declared.env]
    if (flags[key] !== undefined) {
      value = flags[key]
      source = 'flag'
    } else if (declared.env !== undefined && fromEnv !== undefined && fromEnv !== '') {
      try {
        value = declared.parse(fromEnv)
      } catch (error) {
        const shown = declared.secret ? mask(declared.secret, fromEnv) : JSON.stringify(fromEnv)
        throw new ServeConfigError(`${declared.env}=${shown}: ${(error as Error).message}`)
      }
      source = 'env'
    } else if (declared.default !== undefined) {
      value = declared.default
      source = 'default'
    }
    values[key] = value
    settings.push({
      key,
      name: declared.flag ? longName(declared.flag) : (declared.env ?? key),
      ...(declared.env === undefined ? {} : { env: declared.env }),
      value,
      shown: '',
      source,
    })
  }
  const config = values as ServeConfig
  for (const line of settings) line.shown = shownValue(setting(line.key), line.value, config)
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ServeConfigError('give both --tls-cert and --tls-key (MAPPER_TLS_CERT, MAPPER_TLS_KEY), or neither')
  }
  return { config, settings }
}

/** `--print-config`: aligned columns, or JSON for scripts. Secrets are masked in both. */
export function formatEffectiveConfig(resolved: ResolvedServeConfig, format: 'text' | 'json'): string {
  if (format === 'json') {
    const settings = resolved.settings.map((s) => ({
      name: s.name,
      ...(s.env === undefined ? {} : { env: s.env }),
      value: s.value === undefined ? null : setting(s.key).secret ? s.shown : s.value,
      source: s.source,
    }))
    return `${JSON.stringify({ settings }, null, 2)}\n`
  }
  const rows = resolved.settings.map((s) => [s.name, s.env === s.name ? '' : (s.env ?? ''), s.shown, s.source])
  const header = ['setting', 'environment', 'value', 'source']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [
    '# mapper serve: effective configuration (flag > environment > default); nothing was started',
    line(header),
    ...rows.map(line),
    '',
  ].join('\n')
}

/** `****(set)` for a secret, a URL with its password masked, `(unset: …)` for what has no value. */
function shownValue(declared: ServeSetting<unknown>, value: unknown, config: ServeConfig): string {
  if (value === undefined) {
    const meaning = declared.defaultText?.replaceAll('`', '').replaceAll('<data>', config.data)
    return meaning ? `(unset: ${meaning})` : '(unset)'
  }
  if (declared.secret) return mask(declared.secret, String(value))
  return declared.describe ? declared.describe(value) : String(value)
}

export function mask(kind: 'value' | 'url', value: string): string {
  if (kind === 'value') return '****(set)'
  try {
    const url = new URL(value)
    if (url.password) url.password = '****'
    return url.toString()
  } catch {
    return value.includes('@') ? '****(set)' : value
  }
}

function resolveVars(
  fromFlags: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv,
): Array<{ name: string; value: string; source: SettingSource }> {
  const vars = new Map<string, { value: string; source: SettingSource }>()
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(VAR_ENV_PREFIX) && value !== undefined) {
      vars.set(key.slice(VAR_ENV_PREFIX.length), { value, source: 'env' })
    }
  }
  for (const [name, value] of Object.entries(fromFlags ?? {})) vars.set(name, { value, source: 'flag' })
  return [...vars].sort(([a], [b]) => a.localeCompare(b)).map(([name, v]) => ({ name, ...v }))
}

function helpText(declared: ServeSetting<unknown>): string {
  const notes = [
    declared.default !== undefined && typeof declared.default !== 'boolean'
      ? `default: ${String(declared.default)}`
      : undefined,
    declared.env ? `env: ${declared.env}` : undefined,
  ].filter((note) => note !== undefined)
  return notes.length ? `${declared.description} (${notes.join('; ')})` : declared.description
}

function longName(flag: string): string {
  return flag.split(/[ ,]/)[0] ?? flag
}

function text(value: string): string {
  return value
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new Error(`wants a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`)
    }
    return n
  }
}

function boolean(value: string): boolean {
  const normalized = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(normalized)) return true
  if (['false', '0', 'no', 'off'].includes(normalized)) return false
  throw new Error('wants true or false')
}

function oneOf(allowed: string[]): (value: string) => string {
  return (value) => {
    if (!allowed.includes(value)) throw new Error(`wants one of ${allowed.join(', ')}`)
    return value
  }
}

function namedValue(pair: string): Record<string, string> {
  const at = pair.indexOf('=')
  if (at <= 0) throw new Error(`wants NAME=value, got "${pair}"`)
  return { [pair.slice(0, at)]: pair.slice(at + 1) }
}
