/** @module Puts back the step inputs a run left out because they repeated the previous step's payload. */
import type { Step } from './types.ts'

export function restoreStepInputs(steps: readonly Step[]): Step[] {
  let handedOn: unknown
  return steps.map((step) => {
    const restored = 'input' in step ? step : { ...step, input: handedOn }
    handedOn = restored.output !== undefined ? restored.output : restored.input
    return restored
  })
}
