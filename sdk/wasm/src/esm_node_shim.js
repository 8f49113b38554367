// Prepended to armap_core.mjs (emscripten --extern-pre-js). Under node the
// generated code uses require and __dirname, which an ES module lacks; a
// static `import ... from 'module'` would break browsers, so node's
// modules are loaded with a top-level await only when running in node.
const armapIsNode = typeof process === 'object' && typeof process.versions === 'object' &&
                    typeof process.versions.node === 'string';
const require = armapIsNode ? (await import('module')).createRequire(import.meta.url) : undefined;
const __filename = armapIsNode ? (await import('url')).fileURLToPath(import.meta.url) : '';
const __dirname = armapIsNode ? (await import('path')).dirname(__filename) : '';
