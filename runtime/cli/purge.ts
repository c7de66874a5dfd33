/**
 * @module `mapper purge`: removes a flow's raw payloads received before a date, straight in the store (the
 * runtime's retention job does the same every day from `retention.rawPayloadDays`). Steps and metadata stay.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { openStore } from '../store/open-store.ts'
import { DATABASE_FILE } from '../store/sqlite/connection.ts'
import { reportingFailures } from './api-client.ts'

/** Who the audit log names for changes made straight in the store. */
const CLI_ACTOR = 'cli'

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

interface PurgeOptions {
  flow: string
  before?: Date
  olderThan?: number
  data: string
  store?: string
  json?: boolean
}

export function purgeCommand(): Command {
  return new Command('purge')
    .description("remove a flow's raw payloads received before a date (steps, lineage and metadata are kept)")
    .requiredOption('--flow <id>', 'the flow whose raw payloads to remove')
    .option('--before <date>', 'remove those received before this ISO date or time', date)
    .option('--older-than <age>', 'remove those older than this: 7d, 12h, 30m, 2w', age)
    .option('--data <dir>', 'data directory of the embedded SQLite store', '.mapper')
    .addOption(new Option('--store <url>', 'store URL; default: SQLite in --data').env('MAPPER_STORE'))
    .option('--json', 'print JSON')
    .action(
      reportingFailures('purge', async (options: PurgeOptions) => {
        if ((options.before === undefined) === (options.olderThan === undefined)) {
          throw new Error('give either --before DATE or --older-than AGE')
        }
        const before = options.before ?? new Date(Date.now() - (options.olderThan as number))
        if (options.store === undefined && !existsSync(join(options.data, DATABASE_FILE))) {
          throw new Error(`no store in ${options.data} (give --data DIR of \`mapper serve\`, or --store URL)`)
        }
        const store = await openStore(options.store, options.data)
        try {
          const removed = await store.purgeRawPayloads(options.flow, before)
          await store.appendAudit({
            actor: CLI_ACTOR,
            action: 'purge',
            target: `flow:${options.flow}`,
            reason: null,
            details: { before: before.toISOString(), removed },
          })
          if (options.json) console.log(JSON.stringify({ flowId: options.flow, before: before.toISOString(), removed }))
          else {
            const noun = removed === 1 ? 'raw payload' : 'raw payloads'
            console.log(`removed ${removed} ${noun} of flow ${options.flow} received before ${before.toISOString()}`)
          }
        } finally {
          await store.close()
        }
      }),
    )
}

function date(value: string): Date {
  const parsed = new Date(value)
  if (Number.isNaN(parsed.getTime())) throw new InvalidArgumentError('an ISO date or time, such as 2026-01-01')
  return parsed
}

/** `7d` → milliseconds. */
export function age(value: string): number {
  const match = /^(\d+)\s*([smhdw])$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('a number and a unit: s, m, h, d or w (7d, 12h)')
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number)
}
