// Builds dist/ when it is missing or older than any source file, so `npm ci && npm start` works on a fresh clone.
import { execSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function newest (dir) {
  let t = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

const built = ['dist/server.js', 'dist/widget/widget.js'].every((f) => existsSync(f))
if (!built || newest('src') > statSync('dist/server.js').mtimeMs) {
  execSync('npm run build', { stdio: 'inherit' })
}
