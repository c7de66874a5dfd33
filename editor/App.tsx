/** @module The editor shell: sign-in, then one address per screen (SPEC §7). */
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router'
import { FlowEditorPage } from './canvas/flow-editor-page.tsx'
import { DeadLettersPage } from './events/dead-letters-page.tsx'
import { EventDetailPage } from './events/event-detail-page.tsx'
import { EventsPage } from './events/events-page.tsx'
import { FlowsPage } from './flows/flows-page.tsx'
import { MonitorPage } from './monitor/monitor-page.tsx'
import { Layout } from './shell/layout.tsx'
import { SignIn } from './shell/sign-in.tsx'
import { EmptyState, Loading } from './shell/states.tsx'
import { useSession } from './state/session.ts'
import { VersionsPage } from './versions/versions-page.tsx'

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/flows" replace /> },
      { path: 'flows', element: <FlowsPage /> },
      { path: 'flows/:id', element: <FlowEditorPage /> },
      { path: 'flows/:id/versions/:version', element: <VersionsPage /> },
      { path: 'events', element: <EventsPage /> },
      { path: 'events/:id', element: <EventDetailPage /> },
      { path: 'dead-letters', element: <DeadLettersPage /> },
      { path: 'monitor', element: <MonitorPage /> },
      {
        path: '*',
        element: (
          <div className="page">
            <EmptyState title="No such screen">
              The editor has Flows, Events, Dead letters and Monitor. <a href="/flows">Go to the flows</a>.
            </EmptyState>
          </div>
        ),
      },
    ],
  },
])

export function App() {
  const status = useSession((s) => s.status)
  if (status === 'signed-out') return <SignIn />
  if (status === 'checking') return <Loading what="your session" />
  return <RouterProvider router={router} />
}
