// Jest transform for the few ESM-only packages: esbuild rewrites them to CommonJS.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: 'js',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: filename,
      define: { 'import.meta.url': JSON.stringify(`file://${filename}`) },
    });
    return { code, map };
  },
};
