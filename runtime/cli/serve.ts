/** @module `mapper serve`: flow documents become live webhook endpoints, with the editor at `/`. */
import { mkdirSync, readFileSync } from 'node:fs'
import type { Server as HttpsServer } from 'node:https'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import { createLogger, type Logger } from '../server/logger.ts'
import { type Runtime, startRuntime, type TlsFiles } from '../server/runtime.ts'
import { openStore } from '../store/open-store.ts'
import { sqliteDirectory } from './backup.ts'
import {
  flagAttribute,
  formatEffectiveConfig,
  resolveServeConfig,
  SETTING_KEYS,
  type ServeConfig,
  ServeConfigError,
  type SettingKey,
  serveOptions,
} from './serve-config.ts'

const EDITOR_DIR = fileURLToPath(new URL('../../dist/', import.meta.url))

/** Exit code for a configuration mistake (bad value, missing file), as opposed to a failure while running. */
const CONFIG_ERROR_EXIT = 2

export function serveCommand(): Command {
  const command = new Command('serve').description(
    'run the runtime: webhook endpoints, workers, admin API and the editor (flag > environment > default)',
  )
  for (const option of serveOptions()) command.addOption(option)
  return command
    .addOption(
      new Option(
        '--print-config [format]',
        'print the effective configuration with the source of each value, secrets masked, and exit without starting',
      ).choices(['text', 'json']),
    )
    .action(async (_options: unknown, self: Command) => {
      let config: ServeConfig
      try {
        const resolved = resolveServeConfig(givenFlags(self), process.env)
        const printConfig = self.opts().printConfig as string | true | undefined
        if (printConfig !== undefined) {
          process.stdout.write(formatEffectiveConfig(resolved, printConfig === 'json' ? 'json' : 'text'))
          return
        }
        config = resolved.config
      } catch (error) {
        if (!(error instanceof ServeConfigError)) throw error
        console.error(`mapper serve: ${error.message}`)
        process.exitCode = CONFIG_ERROR_EXIT
        return
      }
      await serve(config)
    })
}

/** Only what was typed on the command line: the environment and the defaults are resolveServeConfig's job. */
function givenFlags(command: Command): Partial<Record<SettingKey, unknown>> {
  const flags: Partial<Record<SettingKey, unknown>> = {}
  for (const key of SETTING_KEYS) {
    const attribute = flagAttribute(key)
    if (attribute !== undefined && command.getOptionValueSource(attribute) === 'cli') {
      flags[key] = command.getOptionValue(attribute)
    }
  }
  return flags
}

async function serve(config: ServeConfig): Promise<void> {
  let tls: TlsFiles | undefined
  let dataDir: string
  try {
    tls = readTlsFiles(config)
    // The SQLite store's directory holds secret.key beside mapper.db; with PostgreSQL, --data holds only the key.
    dataDir = sqliteDirectory(config.store, config.data) ?? config.data
  } catch (error) {
    console.error(`mapper serve: ${(error as Error).message}`)
    process.exitCode = CONFIG_ERROR_EXIT
    return
  }
  const logger = createLogger({ level: config.logLevel })
  mkdirSync(dataDir, { recursive: true })
  const store = await openStore(config.store, config.data)
  const runtime = await startRuntime({
    store,
    flowsDir: config.flows,
    schemasDir: config.schemas,
    port: config.port,
    host: config.host,
    logger,
    vars: config.vars,
    editorDir: EDITOR_DIR,
    ...(config.adminToken ? { adminToken: config.adminToken } : {}),
    dataDir,
    workers: config.workers,
    queueHighWater: config.queueHighWater,
    leaseMs: config.leaseMs,
    reconcileAfterMs: config.reconcileAfterMs,
    ...(tls ? { tls } : {}),
  })
  printBanner(runtime)
  stopOnSignals(runtime, config, logger)
  if (tls) reloadTlsOnHangup(runtime, config, logger)
}

function printBanner(runtime: Runtime): void {
  const hooks = runtime.registry
    .deployed()
    .map((f) => `  POST ${runtime.url}/hooks/${f.doc.trigger.path}  →  ${f.doc.id} v${f.doc.version}`)
  process.stderr.write(
    [
      '',
      `Mapper Studio is running: ${runtime.url}/`,
      ...(runtime.createdAdminToken
        ? [
            `Admin token (shown once, keep it): ${runtime.createdAdminToken}`,
            `Sign in: ${runtime.url}/flows?token=${runtime.createdAdminToken}`,
          ]
        : []),
      ...(hooks.length
        ? ['Webhooks:', ...hooks]
        : ['No flows deployed: add <id>.flow.json files to the flows directory.']),
      '',
    ].join('\n'),
  )
}

/**
 * SIGTERM (an orchestrator or load balancer stopping this process) drains first: /readyz answers 503 for
 * --drain-delay-ms while webhooks are still taken, then the graceful stop. SIGINT (Ctrl-C at a terminal) and
 * a second signal stop without that delay.
 */
function stopOnSignals(runtime: Runtime, config: ServeConfig, logger: Logger): void {
  let signals = 0
  const shutdown = (signal: NodeJS.Signals) => {
    signals++
    const drainDelayMs = signal === 'SIGTERM' && signals === 1 ? config.drainDelayMs : 0
    logger.info({ signal, drainDelayMs }, 'shutting down')
    runtime.stop({ drainDelayMs }).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

/** A renewed certificate (certbot, cert-manager) is taken without a restart: `kill -HUP <pid>`. */
function reloadTlsOnHangup(runtime: Runtime, config: ServeConfig, logger: Logger): void {
  process.on('SIGHUP', () => {
    try {
      const files = readTlsFiles(config)
      if (files) (runtime.server as unknown as HttpsServer).setSecureContext(files)
      logger.info({ cert: config.tlsCert }, 'TLS certificate and key reloaded')
    } catch (err) {
      logger.error({ err }, 'TLS reload failed: the previous certificate stays in use')
    }
  })
}

function readTlsFiles(config: ServeConfig): TlsFiles | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined
  return { cert: readPem(config.tlsCert, '--tls-cert'), key: readPem(config.tlsKey, '--tls-key') }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new Error(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
