/** @module A CodeMirror 6 editor for one JSONata expression, kept in step with a controlled value. */
import { EditorState } from '@codemirror/state'
import { drawSelection, EditorView, highlightActiveLine, lineNumbers } from '@codemirror/view'
import { useEffect, useRef } from 'react'
import { jsonataLanguage } from './jsonata-language.ts'

const theme = EditorView.theme({
  '&': { fontSize: '13px', height: '100%', background: 'var(--surface)' },
  '.cm-content': { fontFamily: 'var(--font-mono)', padding: '6px 0' },
  '.cm-gutters': { background: 'var(--surface-sunken)', color: 'var(--text-muted)', border: 'none' },
  '.cm-activeLine': { background: 'rgb(37 99 235 / 0.05)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { overflow: 'auto' },
})

export function CodeEditor({
  value,
  onChange,
  readOnly,
  label,
}: {
  value: string
  onChange(value: string): void
  readOnly: boolean
  label: string
}) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const changed = useRef(onChange)
  changed.current = onChange

  // biome-ignore lint/correctness/useExhaustiveDependencies: the view is made once; value and readOnly follow below
  useEffect(() => {
    if (!host.current) return
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLine(),
          drawSelection(),
          EditorView.lineWrapping,
          jsonataLanguage(),
          theme,
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: 'false' }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString())
          }),
        ],
      }),
    })
    view.current = editor
    return () => {
      editor.destroy()
      view.current = null
    }
  }, [])

  // A change from outside (a dropped field) replaces the text; the user's own typing is already there.
  useEffect(() => {
    const editor = view.current
    if (!editor) return
    const current = editor.state.doc.toString()
    if (current !== value) editor.dispatch({ changes: { from: 0, to: current.length, insert: value } })
  }, [value])

  return <div className="code-editor" ref={host} data-testid="expression-editor" />
}
