/**
 * @module `mapper token create|list|revoke`: API tokens through a running runtime's API, or — with `--data DIR`
 * or `--store URL` — straight in the store, to bootstrap or recover access without a server.
 */
import { mkdirSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { issueToken } from '../server/api/auth.ts'
import { ROLES } from '../server/api/route.ts'
import { openStore } from '../store/open-store.ts'
import type { Role, Store, TokenRecord } from '../store/store.ts'
import { type ApiTarget, callApi, formatTable, reportingFailures, withApiOptions } from './api-client.ts'

/** Who the audit log names for changes made straight in the store. */
const CLI_ACTOR = 'cli'

interface Target extends ApiTarget {
  data?: string
  store?: string
  json?: boolean
}

interface Issued {
  token: string
  id: string
  name: string
  role: Role
}

export function tokenCommand(): Command {
  const token = new Command('token').description('API tokens: create (shown once), list, revoke')
  token.addCommand(
    targetOptions(new Command('create'))
      .description('create a token with a role; prints it once (stdout), details on stderr')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
      .requiredOption('--name <name>', 'who or what uses it, e.g. "ci" or "alice"')
      .action(
        reportingFailures('token create', async (options: Target & { role: Role; name: string }) => {
          const issued = await withTarget(
            options,
            (api) => callApi<Issued>(api, 'POST', '/tokens', { role: options.role, name: options.name }),
            async (store) => {
              const { token, record } = await issueToken(store, options.role, options.name, CLI_ACTOR)
              await store.appendAudit({
                actor: CLI_ACTOR,
                action: 'token.create',
                target: `token:${record.id}`,
                reason: null,
                details: { name: record.name, role: record.role },
              })
              return { token, id: record.id, name: record.name, role: record.role }
            },
          )
          if (options.json) {
            console.log(JSON.stringify(issued, null, 2))
            return
          }
          console.log(issued.token)
          console.error(`token ${issued.id} "${issued.name}" (${issued.role}): shown once, keep it`)
        }),
      ),
  )
  token.addCommand(
    targetOptions(new Command('list'))
      .description('list tokens: id, role, name, created, last used, revoked (never the tokens)')
      .action(
        reportingFailures('token list', async (options: Target) => {
          const tokens = await withTarget(
            options,
            (api) => callApi<TokenRecord[]>(api, 'GET', '/tokens'),
            (store) => store.listTokens(),
          )
          if (options.json) {
            console.log(JSON.stringify(tokens, null, 2))
            return
          }
          console.log(
            formatTable(
              ['ID', 'ROLE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
              tokens.map((t) => [t.id, t.role, t.name, t.createdAt, t.lastUsedAt ?? '-', t.revokedAt ?? '-']),
            ),
          )
        }),
      ),
  )
  token.addCommand(
    targetOptions(new Command('revoke'))
      .description('revoke a token: it gets 401 from now on')
      .argument('<id>', 'the token id (tok_…), from `mapper token list`')
      .action(
        reportingFailures('token revoke', async (id: string, options: Target) => {
          await withTarget(
            options,
            (api) => callApi(api, 'DELETE', `/tokens/${encodeURIComponent(id)}`),
            async (store) => {
              if (!(await store.revokeToken(id))) throw new Error(`no live token ${id}`)
              await store.appendAudit({
                actor: CLI_ACTOR,
                action: 'token.revoke',
                target: `token:${id}`,
                reason: null,
                details: null,
              })
            },
          )
          console.error(`token ${id} revoked`)
        }),
      ),
  )
  return token
}

function targetOptions(command: Command): Command {
  return withApiOptions(command)
    .option('--data <dir>', 'work on the SQLite store in this data directory directly (no server needed)')
    .addOption(new Option('--store <url>', 'work on this store directly (no server needed)'))
    .option('--json', 'print JSON')
}

/** Through the API, unless `--data`/`--store` says to open the store itself. */
async function withTarget<T>(
  options: Target,
  viaApi: (api: ApiTarget) => Promise<T>,
  viaStore: (store: Store) => Promise<T>,
): Promise<T> {
  if (options.data === undefined && options.store === undefined) return viaApi(options)
  if (options.store === undefined && options.data !== undefined) mkdirSync(options.data, { recursive: true })
  const store = await openStore(options.store, options.data ?? '.mapper')
  try {
    return await viaStore(store)
  } finally {
    await store.close()
  }
}

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`)
  return value as Role
}
