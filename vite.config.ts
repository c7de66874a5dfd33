import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/** The editor: `npm run dev` for hot reload (API proxied to a running `mapper serve`), `npm run build` into dist/. */
export default defineConfig({
  root: 'editor',
  plugins: [react()],
  build: { outDir: '../dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: {
      '/api': process.env.MAPPER_URL ?? 'http://127.0.0.1:8080',
      '/hooks': process.env.MAPPER_URL ?? 'http://127.0.0.1:8080',
    },
  },
})
