/** @module `{{expr}}` templates such as an http node's URL. Browser-safe. */

const PLACEHOLDER = /\{\{([\s\S]+?)\}\}/g

/** The JSONata expressions inside a template, in order. */
export function templateExpressions(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => (match[1] ?? '').trim())
}

/**
 * Fills each placeholder with its expression's value, passed through `encode` (URL-encoding for URLs) —
 * except a placeholder that opens the template, which is a base such as `{{$vars.CRM_URL}}/items` and kept as is.
 */
export async function renderTemplate(
  template: string,
  evaluate: (expression: string) => Promise<unknown>,
  encode: (value: string) => string = (value) => value,
): Promise<string> {
  const values = await Promise.all(templateExpressions(template).map(evaluate))
  let index = 0
  return template.replace(PLACEHOLDER, (_match, _expression, offset: number) => {
    const value = values[index++]
    if (value === undefined || value === null) return ''
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    return offset === 0 ? text : encode(text)
  })
}

/** The `$vars.NAME` names a template or an expression reads, each once, in order. */
export function varNamesIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\$vars\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string))]
}
