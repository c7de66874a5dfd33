/** @module `mapper serve`'s settings: one list behind the options, --print-config and docs/configuration.md. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  flagAttribute,
  formatEffectiveConfig,
  resolveServeConfig,
  SETTING_KEYS,
  ServeConfigError,
  serveOptions,
} from '../../runtime/cli/serve-config.ts'
import { CONFIG_DOC_PATH, configurationDocText } from '../../scripts/write-config-doc.ts'
import { REPO_ROOT } from '../support/paths.ts'

const ADMIN_TOKEN = 'mst_do-not-print-me'
const DB_PASSWORD = 'pg-password-do-not-print'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

describe('docs/configuration.md', () => {
  it('holds exactly what scripts/write-config-doc.ts writes', () => {
    expect(
      readFileSync(CONFIG_DOC_PATH, 'utf8'),
      'docs/configuration.md is stale: run `npx tsx scripts/write-config-doc.ts`',
    ).toBe(configurationDocText())
  })

  it('names every environment variable the runtime reads', () => {
    const doc = readFileSync(CONFIG_DOC_PATH, 'utf8')
    const read = new Set<string>()
    const patterns = [
      /process\.env\.([A-Z][A-Z0-9_]*)/g,
      /process\.env\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
      /\.env\('([A-Z][A-Z0-9_]*)'\)/g,
    ]
    for (const file of sourceFiles(join(REPO_ROOT, 'runtime'))) {
      const text = readFileSync(file, 'utf8')
      for (const pattern of patterns) for (const match of text.matchAll(pattern)) read.add(match[1] ?? '')
    }
    expect(read.size).toBeGreaterThan(3)
    expect([...read].filter((name) => !doc.includes(`\`${name}\``))).toEqual([])
  })
})

describe('the effective configuration', () => {
  it('takes a flag over its variable, and the variable over the default', () => {
    const { config, settings } = resolveServeConfig({ port: 9000 }, { PORT: '7000', MAPPER_HOST: '0.0.0.0' })
    expect(config).toMatchObject({ port: 9000, host: '0.0.0.0', data: '.mapper', workers: true })
    const source = (name: string) => settings.find((s) => s.name === name)?.source
    expect([source('--port'), source('--host'), source('--data'), source('--tls-cert')]).toEqual([
      'flag',
      'env',
      'default',
      'unset',
    ])
  })

  it('merges $vars from MAPPER_VAR_* and --var, the flag winning', () => {
    const { config } = resolveServeConfig(
      { vars: { BASE: 'from-flag', ONLY_FLAG: '1' } },
      { MAPPER_VAR_BASE: 'from-env', MAPPER_VAR_ONLY_ENV: '2' },
    )
    expect(config.vars).toEqual({ BASE: 'from-flag', ONLY_FLAG: '1', ONLY_ENV: '2' })
  })

  it('reads MAPPER_WORKERS=false as --no-workers', () => {
    expect(resolveServeConfig({}, { MAPPER_WORKERS: 'false' }).config.workers).toBe(false)
  })

  it('refuses a variable with a value its setting does not take, naming the variable', () => {
    expect(() => resolveServeConfig({}, { MAPPER_DRAIN_DELAY_MS: 'soon' })).toThrow(ServeConfigError)
    expect(() => resolveServeConfig({}, { MAPPER_DRAIN_DELAY_MS: 'soon' })).toThrow(/MAPPER_DRAIN_DELAY_MS="soon"/)
    expect(() => resolveServeConfig({}, { MAPPER_LOG_LEVEL: 'loud' })).toThrow(/wants one of/)
  })

  it('refuses a certificate without its key', () => {
    expect(() => resolveServeConfig({}, { MAPPER_TLS_CERT: 'cert.pem' })).toThrow(/both --tls-cert and --tls-key/)
  })

  it('masks secrets in text and JSON: the admin token, the secret key and the password in a store URL', () => {
    const resolved = resolveServeConfig(
      {},
      {
        MAPPER_ADMIN_TOKEN: ADMIN_TOKEN,
        MAPPER_SECRET_KEY: 'c2VjcmV0LWtleS1kby1ub3QtcHJpbnQtbWUtMzItYnl0ZXM=',
        MAPPER_STORE: `postgres://mapper:${DB_PASSWORD}@db.internal:5432/mapper`,
      },
    )
    for (const format of ['text', 'json'] as const) {
      const printed = formatEffectiveConfig(resolved, format)
      expect(printed).not.toContain(ADMIN_TOKEN)
      expect(printed).not.toContain(DB_PASSWORD)
      expect(printed).not.toContain('c2VjcmV0')
      expect(printed).toContain('****(set)')
      expect(printed).toContain('postgres://mapper:****@db.internal:5432/mapper')
    }
  })

  it('declares every flag so that commander stores it where the list looks for it', () => {
    const options = serveOptions()
    for (const key of SETTING_KEYS) {
      const attribute = flagAttribute(key)
      if (attribute !== undefined) expect(options.map((o) => o.attributeName())).toContain(attribute)
    }
  })
})

describe('mapper serve --print-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mapper-print-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints the configuration with secrets masked and exits 0 without starting anything', () => {
    const data = join(dir, 'data')
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin/mapper.js'), 'serve', '--print-config', '--data', data, '--port', '18080'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, MAPPER_ADMIN_TOKEN: ADMIN_TOKEN, MAPPER_DRAIN_DELAY_MS: '15000' },
      },
    )
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/MAPPER_ADMIN_TOKEN\s+\*\*\*\*\(set\)\s+env/)
    expect(run.stdout).toMatch(/--drain-delay-ms\s+MAPPER_DRAIN_DELAY_MS\s+15000\s+env/)
    expect(run.stdout).toMatch(/--port\s+PORT\s+18080\s+flag/)
    expect(run.stdout + run.stderr).not.toContain(ADMIN_TOKEN)
    expect(existsSync(data), 'the data directory was created: the store was opened').toBe(false)
  })

  it('exits 2 with the reason when a value is wrong', () => {
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/mapper.js'), 'serve', '--print-config'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PORT: 'eighty' },
    })
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('PORT="eighty"')
  })
})
