/** @module The `mapper` command line: one file per command, wired here. */
import { Command } from 'commander'
import { backupCommand } from './backup.ts'
import { diffCommand } from './diff.ts'
import { exportCommand } from './export.ts'
import { fuzzCommand } from './fuzz.ts'
import { impactCommand } from './impact.ts'
import { importCommand } from './import.ts'
import { lineageCommand } from './lineage.ts'
import { purgeCommand } from './purge.ts'
import { reconcileCommand } from './reconcile.ts'
import { replayCommand } from './replay.ts'
import { restoreCommand } from './restore.ts'
import { secretCommand } from './secret.ts'
import { sendCommand } from './send.ts'
import { serveCommand } from './serve.ts'
import { tokenCommand } from './token.ts'
import { validateCommand } from './validate.ts'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('mapper')
    .description('Mapper Studio: visual webhook flows — verify, validate, dedupe, map, branch, call an API.')
    .showHelpAfterError()
  program.addCommand(serveCommand())
  program.addCommand(sendCommand())
  program.addCommand(fuzzCommand())
  program.addCommand(impactCommand())
  program.addCommand(validateCommand())
  program.addCommand(exportCommand())
  program.addCommand(importCommand())
  program.addCommand(diffCommand())
  program.addCommand(lineageCommand())
  program.addCommand(tokenCommand())
  program.addCommand(secretCommand())
  program.addCommand(replayCommand())
  program.addCommand(reconcileCommand())
  program.addCommand(purgeCommand())
  program.addCommand(backupCommand())
  program.addCommand(restoreCommand())
  return program
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv)
}
