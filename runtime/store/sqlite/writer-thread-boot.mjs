// Entry point of the writer thread: teaches the thread TypeScript, then loads writer-thread.ts.
//
// Why a JavaScript entry: the store runs under tsx (bin/mapper.js calls tsx's register()) and under
// vitest, but neither reaches a worker thread. A Worker given the .ts file directly fails with
// ERR_UNKNOWN_FILE_EXTENSION, and `execArgv: ['--import', 'tsx']` does not help either: tsx's loader
// registers its hooks only on the main thread (`isMainThread && register()`), and `--import` resolves
// `tsx` from the working directory, not from this package. Calling register() here is explicit, resolves
// tsx next to this file, and works under `node --import tsx`, bin/mapper.js and vitest alike (checked on
// Node 20.20). The writer itself stays TypeScript, so its SQL is type-checked with the rest.
import { register } from 'tsx/esm/api'

register()
await import('./writer-thread.ts')
