// Builds the app into dist/: one bundled, minified script for the app, the service worker with the
// list of files it caches (and a version that changes whenever any of them does), and the static files.
// `tram-server serve --web web/dist` serves the result at /.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: 'src/ui/main.js' },
  bundle: true, minify: true, format: 'esm', target: 'es2022',
  outdir: out, sourcemap: false, legalComments: 'none', logLevel: 'warning',
});

for (const f of readdirSync('static')) copyFileSync(join('static', f), join(out, f));

// The service worker caches exactly the files built here; its version is their hash.
const files = readdirSync(out).filter((f) => f !== 'sw.js').sort();
const h = createHash('sha256');
for (const f of files) h.update(f).update(readFileSync(join(out, f)));
const version = h.digest('hex').slice(0, 16);
await build({
  entryPoints: { sw: 'src/sw.js' },
  bundle: true, minify: true, format: 'iife', target: 'es2022', outdir: out, logLevel: 'warning',
  define: { __TRAM_FILES__: JSON.stringify(['./', ...files.filter((f) => f !== 'index.html')]),
            __TRAM_VERSION__: JSON.stringify(version) },
});
writeFileSync(join(out, 'version.txt'), version + '\n');
console.log(`web: built ${files.length + 1} files into ${out}/ (version ${version})`);
