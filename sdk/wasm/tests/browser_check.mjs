// The package in headless Chromium: serves ARMAP_WASM_PKG and a page that
// imports index.mjs as a browser ES module (no node shims), computes a
// known ENU offset, a prompt, a fused pose, and lists maps with the
// browser's own fetch from a stand-in /v1/maps; the page posts what it got
// to /result, checked here. Exit 77 when chromium is missing.
// Run by ctest as sdk/wasm/browser (not by `node --test tests/`).
import { spawn } from 'child_process';
import { existsSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { createServer } from 'http';
import { join } from 'path';

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!chromium) {
  console.log('sdk/wasm/browser: SKIPPED: chromium is not installed (scripts/install_deps.sh)');
  process.exit(77);
}
const pkg = process.env.ARMAP_WASM_PKG;
if (!pkg || !existsSync(join(pkg, 'index.mjs'))) {
  console.error(`ARMAP_WASM_PKG = ${JSON.stringify(pkg)} is not a built package folder`);
  process.exit(1);
}

const page = `<!doctype html><html><body><script type="module">
try {
  const sdk = await import('./index.mjs');
  const frame = new sdk.EnuFrame({ latDeg: 0, lonDeg: 0, altM: 0 });
  const east = frame.enuFromWgs84({ latDeg: 0, lonDeg: 0.001, altM: 0 })[0];
  const prompt = sdk.promptFor({ type: 'TURN_LEFT', atM: 30 }, 30.2).en;
  const fusion = new sdk.PoseFusion({ sessionUpAxis: 'z' });
  const id = { qw: 1, qx: 0, qy: 0, qz: 0, translation: { x: 0, y: 0, z: 0 } };
  fusion.addTracking(0, id);
  const outcome = fusion.addFix(0, { ...id, translation: { x: 2, y: 3, z: 1 } }, 1);
  const fused = fusion.mapFromCam(0).translation.x;
  const maps = await new sdk.ArmapClient(location.origin).listMaps();
  await fetch('/result', { method: 'POST', body: JSON.stringify({ east, prompt, outcome, fused, mapId: maps[0].mapId }) });
} catch (e) {
  await fetch('/result', { method: 'POST', body: JSON.stringify({ error: String(e && e.stack || e) }) });
}
</script></body></html>`;

let result = null;
let child = null;
const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/result') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200).end();
      result = JSON.parse(body);
      child?.kill('SIGTERM');
    });
    return;
  }
  if (url.pathname === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
  if (url.pathname === '/v1/maps') {
    return res.writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ maps: [{ mapId: 'browser-map', origin: { latDeg: 1, lonDeg: 2 } }] }));
  }
  const file = join(pkg, url.pathname.replace(/^\/+/, ''));
  if (!/^\/[\w.]+$/.test(url.pathname) || !existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(readFileSync(file));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  child = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--user-data-dir=' +
                           join(tmpdir(), `armap_wasm_chromium_${process.pid}`), `http://127.0.0.1:${port}/`],
                { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
  child.on('close', () => {
    clearTimeout(timer);
    server.close();
    rmSync(join(tmpdir(), `armap_wasm_chromium_${process.pid}`), { recursive: true, force: true });
    if (!result) {
      console.error('the page posted no result within 60 s');
      process.exit(1);
    }
    const r = result;
    console.log('browser page:', JSON.stringify(r));
    const failures = [];
    if (r.error) failures.push(r.error);
    // 0.001 deg of longitude on the equator: a * 0.001 * pi / 180 = 111.3195 m.
    if (!(Math.abs(r.east - 111.3195) < 1e-3)) failures.push(`east ${r.east}`);
    if (r.prompt !== 'In 30 m, turn left') failures.push(`prompt ${r.prompt}`);
    if (r.outcome !== 'initialized' || Math.abs(r.fused - 2) > 1e-9) failures.push(`fusion ${r.outcome} ${r.fused}`);
    if (r.mapId !== 'browser-map') failures.push(`listMaps ${r.mapId}`);
    if (failures.length) {
      console.error('FAILED: ' + failures.join('; '));
      process.exit(1);
    }
    console.log('sdk/wasm/browser: OK');
  });
});
