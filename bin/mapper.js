#!/usr/bin/env node
// The `mapper` command: loads the TypeScript sources through tsx, then hands over to the CLI.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../runtime/cli/main.ts')
await main(process.argv)
