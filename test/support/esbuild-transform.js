// Jest transform for the TypeScript sources and the few ESM-only packages, by esbuild: each file
// on its own, as `isolatedModules` already requires. ts-jest built a TypeScript language service
// on every clean clone's cold cache; types are checked by `npm run typecheck`, not here.
const { transformSync } = require('esbuild');
const tsconfig = require('../../tsconfig.json');

const LOADERS = { '.ts': 'ts', '.tsx': 'tsx' };

module.exports = {
  process(source, filename) {
    const loader = LOADERS[filename.slice(filename.lastIndexOf('.'))] ?? 'js';
    const { code, map } = transformSync(source, {
      loader,
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: filename,
      tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
      // import() as require(), as jest's CommonJS runtime loads everything it transformed.
      supported: { 'dynamic-import': false },
      define: { 'import.meta.url': JSON.stringify(`file://${filename}`) },
    });
    return { code, map };
  },
};
