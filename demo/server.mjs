// A static file server for the demo and the browser tests, on 127.0.0.1 only.
// It sends COOP/COEP so pages are cross-origin isolated (SharedArrayBuffer, threads);
// `isolated: false` (--no-isolation) leaves them out, to see a page run on one thread.
// Usage: node demo/server.mjs [port] [--no-isolation]   (0 or none: a free port, printed on stdout)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.wgsl': 'text/plain; charset=utf-8', '.json': 'application/json',
  '.css': 'text/css', '.gz': 'application/gzip', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
  '.data': 'text/plain', '.svg': 'image/svg+xml',
};

export function serve(port = 0, { isolated = true } = {}) {
  const server = createServer(async (req, res) => {
    const headers = isolated ? {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    } : { 'Cache-Control': 'no-store' };
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      let path = decodeURIComponent(url.pathname);
      if (path === '/') { res.writeHead(302, { ...headers, Location: `/demo/${url.search}` }); res.end(); return; }
      if (path.endsWith('/')) path += 'index.html';
      const file = normalize(join(root, path));
      if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
      if ((await stat(file)).isDirectory()) throw Object.assign(new Error('dir'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers);
      res.end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const isolated = !args.includes('--no-isolation');
  const server = await serve(Number(args.find((a) => !a.startsWith('--')) ?? 8080), { isolated });
  const { port } = server.address();
  console.log(`knet demo: http://127.0.0.1:${port}/${isolated ? '' : ' (not cross-origin isolated: one thread)'}`);
}
