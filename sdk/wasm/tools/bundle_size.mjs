// Prints and writes the WebAssembly SDK's bundle size: the core module
// (armap_core.mjs, the wasm embedded as base64), the wasm binary inside it,
// and the whole package folder, in bytes and gzipped (level 9) bytes.
//   node tools/bundle_size.mjs PKG_DIR OUT_JSON
import { readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { gzipSync } from 'zlib';

const [pkgDir, outJson] = process.argv.slice(2);
if (!pkgDir || !outJson) {
  console.error('usage: node bundle_size.mjs PKG_DIR OUT_JSON');
  process.exit(2);
}
const gz = (buffer) => gzipSync(buffer, { level: 9 }).length;
const core = readFileSync(join(pkgDir, 'armap_core.mjs'));
const text = core.toString('latin1');
const marker = 'data:application/octet-stream;base64,AGFzbQ';  // the wasm magic, base64
const at = text.indexOf(marker);
if (at < 0) {
  console.error(`bundle_size: ${pkgDir}/armap_core.mjs has no embedded wasm (built without -sSINGLE_FILE=1?)`);
  process.exit(1);
}
const end = text.indexOf('"', at);
const wasm = Buffer.from(text.slice(at + marker.length - 'AGFzbQ'.length, end), 'base64');
if (wasm.readUInt32BE(0) !== 0x0061736d) {
  console.error('bundle_size: the embedded data is not a wasm module');
  process.exit(1);
}
let packageBytes = 0;
let packageGzipBytes = 0;
const files = {};
for (const name of readdirSync(pkgDir).sort()) {
  const data = readFileSync(join(pkgDir, name));
  files[name] = { bytes: data.length, gzip_bytes: gz(data) };
  packageBytes += data.length;
  packageGzipBytes += files[name].gzip_bytes;
}
const result = {
  armap_core_mjs_bytes: core.length,
  armap_core_mjs_gzip_bytes: gz(core),
  wasm_bytes: wasm.length,
  wasm_gzip_bytes: gz(wasm),
  package_bytes: packageBytes,
  package_gzip_bytes: packageGzipBytes,
  files,
};
writeFileSync(outJson, JSON.stringify(result, null, 2) + '\n');
const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
console.log(`WASM bundle size: armap_core.mjs ${kb(result.armap_core_mjs_bytes)} (${kb(result.armap_core_mjs_gzip_bytes)} gzipped), ` +
            `wasm ${kb(result.wasm_bytes)} (${kb(result.wasm_gzip_bytes)} gzipped), ` +
            `package ${kb(packageBytes)} (${kb(packageGzipBytes)} gzipped) -> ${outJson}`);
