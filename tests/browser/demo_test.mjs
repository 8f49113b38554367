// The demo page (server/web) in headless Chromium against a running
// `armap serve --http-port`: upload a localizable photo with its intrinsics
// and GPS prior, wait for the pose, and check in a screenshot that the
// magenta pose marker lands where the ground truth camera centre projects on
// the 2D map; route to a POI and check the polyline is drawn and the
// instructions listed; upload bad photos and check the page says why.
//
// Driven by tests/browser/browser_test.cc; runnable by hand:
//   ARMAP_WEB_URL=http://127.0.0.1:PORT ARMAP_WEB_QUERY=query.json \
//   ARMAP_WEB_OUT=/tmp/out node tests/browser/demo_test.mjs
// query.json: {image, width, height, params: [fx, fy, cx, cy, k1, k2, p1, p2],
//   prior: {lat, lon, accuracy_m}, gravity: [x, y, z],
//   gt_cam_from_world: {q: [w, x, y, z], t: [x, y, z]}, poi_name}
//
// Exit codes: 0 pass, 1 fail, 77 skipped (no chromium or node_modules: run
// scripts/install_deps.sh). ARMAP_CHROMIUM overrides /usr/bin/chromium.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../server/web');
const chromiumPath = process.env.ARMAP_CHROMIUM ?? '/usr/bin/chromium';

if (!existsSync(chromiumPath)) {
  console.log(`SKIP: ${chromiumPath} not found; run scripts/install_deps.sh`);
  process.exit(SKIP);
}
// The test tools are the web folder's devDependencies.
const requireFromWeb = createRequire(path.join(webDir, 'package.json'));
let chromium, PNG;
try {
  ({ chromium } = requireFromWeb('playwright-core'));
  ({ PNG } = requireFromWeb('pngjs'));
} catch (e) {
  console.log(`SKIP: server/web/node_modules is missing (${e.code ?? e.message}); run scripts/install_deps.sh`);
  process.exit(SKIP);
}

const url = process.env.ARMAP_WEB_URL;
const queryFile = process.env.ARMAP_WEB_QUERY;
const outDir = process.env.ARMAP_WEB_OUT ?? process.cwd();
if (!url || !queryFile) {
  console.error('demo_test: set ARMAP_WEB_URL and ARMAP_WEB_QUERY');
  process.exit(1);
}
const query = JSON.parse(readFileSync(queryFile, 'utf8'));

// Tolerances. The fixture's localization tests see 0.1-0.3 m on this query,
// so the pose must be within 0.5 m of the truth. The page fits the map with
// margins: at this viewport the small city is drawn at 0.26 m/px, so 0.5 m
// is ~1.9 px; the marker is checked against the truth within that plus 1 px
// for rasterisation (the centroid of a filled 8 px disc is exact to ~0.1 px),
// and against the page's own pose within 1 px. A marker drawn in a wrong
// frame or scale moves by tens of pixels, one a metre off by ~3 px.
const POSITION_TOLERANCE_M = 0.5;
const RASTER_TOLERANCE_PX = 1;

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures += 1;
}

function centreFromCamFromWorld({ q: [w, x, y, z], t }) {
  const R = [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
  return [0, 1, 2].map((j) => -(R[0][j] * t[0] + R[1][j] * t[1] + R[2][j] * t[2]));
}

// Pixels of exactly the marker colour (#ff00ff, allowing JPEG-free PNG
// rounding) inside `rect`; their centroid in screenshot pixels.
function magentaCentroid(png, rect) {
  let n = 0, sx = 0, sy = 0;
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(png.width, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(png.height, Math.ceil(rect.y + rect.height));
  for (let y = y0; y < y1; ++y) {
    for (let x = x0; x < x1; ++x) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] >= 250 && png.data[i + 1] <= 5 && png.data[i + 2] >= 250) {
        n += 1;
        sx += x;
        sy += y;
      }
    }
  }
  // Pixel (x, y) covers [x, x + 1): its centre is at x + 0.5 in page px.
  return n ? { n, x: sx / n + 0.5, y: sy / n + 0.5 } : { n };
}

function colourNear(png, x, y, [r, g, b], tolerance) {
  const xi = Math.floor(x), yi = Math.floor(y);
  if (xi < 0 || yi < 0 || xi >= png.width || yi >= png.height) return false;
  const i = (yi * png.width + xi) * 4;
  return Math.abs(png.data[i] - r) <= tolerance && Math.abs(png.data[i + 1] - g) <= tolerance &&
         Math.abs(png.data[i + 2] - b) <= tolerance;
}

async function nextFrames(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function screenshot(page, name) {
  const file = path.join(outDir, name);
  const buffer = await page.screenshot({ path: file });
  console.log(`screenshot ${file}`);
  return PNG.sync.read(buffer);
}

// The page reads the file, fills the camera fields with defaults and names
// the file in its note; wait for that before typing over the defaults.
async function choosePhoto(page, file) {
  await page.setInputFiles('#photo-input', file);
  await page.waitForFunction((name) => document.getElementById('photo-note').textContent.startsWith(`${name}:`),
    path.basename(file));
}

// A JPEG with an APP1 Exif segment (little-endian TIFF) whose Exif IFD holds
// FocalLengthIn35mmFilm = `mm`, spliced in after the SOI of `jpeg`.
function withExifFocal35mm(jpeg, mm) {
  const tiff = Buffer.alloc(44);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);            // IFD0
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(0x8769, 10);      // Exif IFD pointer, LONG
  tiff.writeUInt16LE(4, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt32LE(26, 18);
  tiff.writeUInt32LE(0, 22);           // no next IFD
  tiff.writeUInt16LE(1, 26);           // Exif IFD
  tiff.writeUInt16LE(0xa405, 28);      // FocalLengthIn35mmFilm, SHORT
  tiff.writeUInt16LE(3, 30);
  tiff.writeUInt32LE(1, 32);
  tiff.writeUInt16LE(mm, 36);
  tiff.writeUInt32LE(0, 40);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(2 + 6 + tiff.length, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, Buffer.from('Exif\0\0', 'latin1'), tiff, jpeg.subarray(2)]);
}

async function uploadAndLocalize(page, file, fields) {
  await choosePhoto(page, file);
  await page.evaluate(() => { document.getElementById('advanced').open = true; });
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, String(value));
  await page.click('#localize-btn');
  await page.waitForFunction(() => {
    const s = document.getElementById('status');
    return s.classList.contains('ok') || s.classList.contains('error');
  }, null, { timeout: 30000 });
}

const userDataDir = mkdtempSync(path.join(tmpdir(), 'armap_chromium_'));
let browser;  // a persistent context: the browser and its one profile
try {
  // A fresh profile (userDataDir) each run.
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // WebGL on the CPU (SwiftShader), for the 3D view without a GPU.
      '--enable-unsafe-swiftshader'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  const consoleErrors = [];
  // Chromium logs every HTTP error answer as a console error; the bad-photo
  // cases below expect one, so those are not page errors.
  page.on('console', (m) => {
    const httpError = m.text().startsWith('Failed to load resource: the server responded with a status of 4');
    if (m.type() === 'error' && !httpError) {
      consoleErrors.push(m.text());
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15000 });
  check(consoleErrors.length === 0, `page loads without errors ${JSON.stringify(consoleErrors)}`);

  // --- Localize the fixture photo.
  const [fx, fy, cx, cy, k1 = 0, k2 = 0, p1 = 0, p2 = 0] = query.params;
  const fields = {
    'cam-width': query.width, 'cam-height': query.height,
    'cam-fx': fx, 'cam-fy': fy, 'cam-cx': cx, 'cam-cy': cy,
    'cam-k1': k1, 'cam-k2': k2, 'cam-p1': p1, 'cam-p2': p2,
    'prior-lat': query.prior.lat, 'prior-lon': query.prior.lon, 'prior-acc': query.prior.accuracy_m,
  };
  if (query.gravity) {
    Object.assign(fields, { 'grav-x': query.gravity[0], 'grav-y': query.gravity[1], 'grav-z': query.gravity[2] });
  }
  await uploadAndLocalize(page, query.image, fields);
  const pose = await page.evaluate(() => window.armapDemo.state.pose &&
    { centre: window.armapDemo.state.pose.centreMap, response: window.armapDemo.state.lastLocalize });
  const statusText = await page.textContent('#status');
  check(pose !== null, `the photo localizes (${statusText.trim()})`);
  if (pose) {
    const gt = centreFromCamFromWorld(query.gt_cam_from_world);
    const errM = Math.hypot(pose.centre[0] - gt[0], pose.centre[1] - gt[1]);
    check(errM <= POSITION_TOLERANCE_M, `pose within ${POSITION_TOLERANCE_M} m of the truth (${errM.toFixed(3)} m)`);
    await nextFrames(page);
    const png = await screenshot(page, 'demo_pose.png');
    const canvasRect = await page.evaluate(() => {
      const r = document.getElementById('map2d').getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
    const expected = await page.evaluate(([x, y]) => window.armapDemo.mapToCanvasPx(x, y), gt);
    const drawnAt = await page.evaluate(([x, y]) => window.armapDemo.mapToCanvasPx(x, y), pose.centre);
    const mPerPx = await page.evaluate(() => {
      const a = window.armapDemo.mapToCanvasPx(0, 0), b = window.armapDemo.mapToCanvasPx(10, 0);
      return 10 / (b.x - a.x);
    });
    const found = magentaCentroid(png, canvasRect);
    // A disc of radius 8 px has ~200 pixels, ~170 of them not antialiased;
    // fewer means it is hidden or clipped.
    check(found.n >= 120, `the magenta marker is on the 2D map (${found.n} px)`);
    if (found.n) {
      const at = `(${found.x.toFixed(1)}, ${found.y.toFixed(1)})`;
      const dPose = Math.hypot(found.x - drawnAt.x, found.y - drawnAt.y);
      check(dPose <= RASTER_TOLERANCE_PX, `marker centroid ${at} within ${RASTER_TOLERANCE_PX} px of the page's pose ` +
        `(${drawnAt.x.toFixed(1)}, ${drawnAt.y.toFixed(1)}): ${dPose.toFixed(2)} px`);
      const tolerancePx = POSITION_TOLERANCE_M / mPerPx + RASTER_TOLERANCE_PX;
      const dTruth = Math.hypot(found.x - expected.x, found.y - expected.y);
      check(dTruth <= tolerancePx, `marker centroid ${at} within ${tolerancePx.toFixed(2)} px of the ground truth ` +
        `(${expected.x.toFixed(1)}, ${expected.y.toFixed(1)}): ${dTruth.toFixed(2)} px at ${mPerPx.toFixed(3)} m/px`);
    }
    const details = await page.textContent('#pose-details');
    check(/inliers/.test(details) && /ms server/.test(details), 'pose details list inliers and latency');

    // --- Route to a POI from the pose.
    if (query.poi_name) {
      await page.selectOption('#poi-select', query.poi_name);
      await page.click('#route-btn');
      await page.waitForFunction(() => {
        const s = document.getElementById('route-status');
        return s.classList.contains('ok') || s.classList.contains('error');
      }, null, { timeout: 15000 });
      const route = await page.evaluate(() => window.armapDemo.state.route &&
        { polyline: window.armapDemo.state.route.polylineMap, n: window.armapDemo.state.route.maneuvers.length });
      check(route !== null, `route to ${query.poi_name}: ${(await page.textContent('#route-status')).trim()}`);
      if (route) {
        const items = await page.$$eval('#maneuvers li', (li) => li.map((e) => e.textContent));
        check(items.length >= 2 && items.length === route.n, `instruction list has ${items.length} entries`);
        await page.check('input[name=lang][value=en]');
        const itemsEn = await page.$$eval('#maneuvers li .text', (li) => li.map((e) => e.textContent));
        check(itemsEn.length === items.length && itemsEn.every((t) => /[A-Za-z]/.test(t)),
          `English instructions: ${JSON.stringify(itemsEn)}`);
        await nextFrames(page);
        const routePng = await screenshot(page, 'demo_route.png');
        // Sample the polyline every metre, away from its ends (the pose
        // marker and the destination ring cover those): the route colour
        // should be under nearly all samples.
        const samples = await page.evaluate((poly) => {
          const out = [];
          for (let i = 1; i < poly.length; ++i) {
            const [a, b] = [poly[i - 1], poly[i]];
            const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
            for (let s = 0; s < len; s += 1) {
              const f = s / len;
              out.push(window.armapDemo.mapToCanvasPx(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])));
            }
          }
          return out;
        }, route.polyline);
        const inner = samples.slice(Math.ceil(samples.length * 0.15), Math.floor(samples.length * 0.85));
        const blue = inner.filter((p) => colourNear(routePng, p.x, p.y, [0x1a, 0x73, 0xe8], 40)).length;
        check(inner.length >= 5 && blue >= 0.8 * inner.length,
          `route polyline drawn: ${blue} of ${inner.length} samples in the route colour`);
      }
    }
  }

  // --- The same photo sent at most 960 px wide: re-encoded with the
  // intrinsics scaled, it must localize as well.
  await page.fill('#max-side', '960');
  await page.click('#localize-btn');
  await page.waitForFunction(() => /ok|error/.test(document.getElementById('status').className), null,
    { timeout: 30000 });
  const scaled = await page.evaluate(() => window.armapDemo.state.pose &&
    { centre: window.armapDemo.state.pose.centreMap, camera: window.armapDemo.state.pose.camera });
  check(scaled?.camera.width === 960 && scaled?.camera.height === Math.round((query.height * 960) / query.width),
    `downscaled upload: ${scaled ? `${scaled.camera.width} × ${scaled.camera.height}` : 'no pose'}`);
  if (scaled) {
    const gt = centreFromCamFromWorld(query.gt_cam_from_world);
    const errM = Math.hypot(scaled.centre[0] - gt[0], scaled.centre[1] - gt[1]);
    check(errM <= POSITION_TOLERANCE_M,
      `downscaled pose within ${POSITION_TOLERANCE_M} m of the truth (${errM.toFixed(3)} m)`);
  }
  await page.fill('#max-side', '2048');

  // --- Bad photos: a file that is not an image (the server refuses it) and
  // a featureless image (valid, not localized): the page shows the reason.
  const workDir = mkdtempSync(path.join(tmpdir(), 'armap_web_bad_'));
  try {
    // Default intrinsics: from the EXIF 35 mm focal length when present
    // (by the diagonal: f_px = f_35 * diagonal_px / 43.27 mm).
    const exifPhoto = path.join(workDir, 'exif_26mm.jpg');
    writeFileSync(exifPhoto, withExifFocal35mm(readFileSync(query.image), 26));
    await choosePhoto(page, exifPhoto);
    const fxDefault = Number(await page.inputValue('#cam-fx'));
    const fxExpected = (26 * Math.hypot(query.width, query.height)) / Math.hypot(36, 24);
    check(Math.abs(fxDefault - fxExpected) <= 0.1, `fx from EXIF: ${fxDefault} (expected ${fxExpected.toFixed(1)})`);
    check(Number(await page.inputValue('#cam-cx')) === (query.width - 1) / 2, 'cx defaults to the image centre');

    const notImage = path.join(workDir, 'not_a_photo.jpg');
    writeFileSync(notImage, 'this is not a JPEG');
    await uploadAndLocalize(page, notImage, { 'cam-width': 640, 'cam-height': 480, 'cam-fx': 500, 'cam-fy': 500,
      'cam-cx': 319.5, 'cam-cy': 239.5, 'cam-k1': '', 'cam-k2': '', 'cam-p1': '', 'cam-p2': '',
      'grav-x': '', 'grav-y': '', 'grav-z': '' });
    let error = await page.evaluate(() => window.armapDemo.state.error);
    let text = (await page.textContent('#status')).trim();
    check(error?.where === 'localize' && error.status === 'INVALID_ARGUMENT' && /image/i.test(text),
      `a non-image shows the server's error: "${text}"`);
    check(await page.evaluate(() => window.armapDemo.state.pose === null), 'and no pose is shown');

    const grey = new PNG({ width: 640, height: 480 });
    grey.data.fill(128);
    const greyFile = path.join(workDir, 'grey.png');
    writeFileSync(greyFile, PNG.sync.write(grey));
    await uploadAndLocalize(page, greyFile, {});
    error = await page.evaluate(() => window.armapDemo.state.error);
    text = (await page.textContent('#status')).trim();
    check(error?.where === 'localize' && /^Not localized \(TOO_FEW_FEATURES\)/.test(text),
      `a featureless photo shows the failure reason: "${text}"`);
    await screenshot(page, 'demo_failure.png');
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  check(consoleErrors.length === 0, `no page errors ${JSON.stringify(consoleErrors)}`);
} catch (e) {
  console.log(`FAIL ${e.stack ?? e}`);
  failures += 1;
} finally {
  await browser?.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(failures === 0 ? 'PASS' : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
