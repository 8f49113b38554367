// armap demo page: pick a map, localize a photo through POST /v1/localize,
// show the pose on a 2D map (footprints, walkways, POIs) and in a 3D view of
// the white model, and route to a POI through POST /v1/route.
//
// Frames (as in proto/armap/v1): the map frame is local ENU in metres about
// the map's origin (x east, y north, z up); the package's GeoJSON is WGS84
// lon/lat and is converted here; the white-model GLB is glTF y-up
// (x = east, y = up, z = -north), which is also the 3D scene's frame.
//
// For tests, window.armapDemo publishes the 2D view transform
// (mapToCanvasPx) and the page state (last pose, route, error).

import { MapView2D } from './map2d.js';
import { View3D } from './view3d.js';
import { EnuFrame } from './geo.js';
import { focalLength35mm, focalPxFrom35mm } from './exif.js';

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- API ----

// An HTTP error answered by the gateway: {"code", "status", "message"}.
class ApiError extends Error {
  constructor(httpStatus, body) {
    const status = body?.status ?? `HTTP ${httpStatus}`;
    super(body?.message || `request failed with HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.status = status;
  }
}

async function api(path, { method = 'GET', body, as = 'json' } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { status: 'UNAVAILABLE', message: `cannot reach the server (${e.message})` });
  }
  if (!response.ok) {
    let error = null;
    try {
      error = await response.json();
    } catch {
      // not a gateway error body (e.g. a proxy's page)
    }
    throw new ApiError(response.status, error);
  }
  if (as === 'json') return response.json();
  if (as === 'blob') return response.blob();
  return response.arrayBuffer();
}

const mapFile = (mapId, path, as = 'json') =>
  api(`/v1/maps/${encodeURIComponent(mapId)}/files/${path}`, { as });

// ------------------------------------------------------------ helpers ----

function base64FromBytes(bytes) {
  let binary = '';
  const chunk = 0x8000;  // String.fromCharCode's argument count is limited
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

// Reads an <input type=number>; '' -> null; non-numbers throw naming it.
function numberField(id, { required = false, positive = false } = {}) {
  const el = $(id);
  const text = el.value.trim();
  const label = el.closest('label')?.textContent.trim() || id;
  if (text === '') {
    if (required) throw new Error(`${label}: a value is required`);
    return null;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) throw new Error(`${label}: "${text}" is not a number`);
  if (positive && !(v > 0)) throw new Error(`${label}: must be > 0 (got ${v})`);
  return v;
}

// Rotation matrix (rows) of a unit quaternion [w, x, y, z].
function rotationFromQuaternion(w, x, y, z) {
  const n = Math.hypot(w, x, y, z) || 1;
  w /= n; x /= n; y /= n; z /= n;
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
}

// cam_from_world (proto Rigid3 JSON) -> the camera in the map frame.
function cameraInMap(camFromWorld) {
  const q = camFromWorld;
  const t = q.translation ?? {};
  const R = rotationFromQuaternion(q.qw ?? 0, q.qx ?? 0, q.qy ?? 0, q.qz ?? 0);
  const tv = [t.x ?? 0, t.y ?? 0, t.z ?? 0];
  // centre = -R^T t; a camera axis in the map = the matching row of R.
  const centre = [0, 1, 2].map((j) => -(R[0][j] * tv[0] + R[1][j] * tv[1] + R[2][j] * tv[2]));
  const worldFromCam = (v) => [0, 1, 2].map((j) => R[0][j] * v[0] + R[1][j] * v[1] + R[2][j] * v[2]);
  const forward = worldFromCam([0, 0, 1]);
  // Compass heading of the optical axis in the map frame (x east, y north).
  const headingDeg = ((Math.atan2(forward[0], forward[1]) * 180) / Math.PI + 360) % 360;
  return { centre, forward, worldFromCam, headingDeg };
}

const fmt = (v, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

// ------------------------------------------------------------- state -----

const state = {
  maps: [],
  mapInfo: null,     // MapInfo JSON of the selected map
  frame: null,       // EnuFrame about the map's origin
  layers: null,      // the map's geometry in the map frame (see loadLayers)
  photo: null,       // { bytes, url, width, height, name }
  pose: null,        // the last successful localization (see showPose)
  lastLocalize: null,  // the last LocalizeResponse, successful or not
  route: null,       // { response, route, polylineMap, arPolylineMap, maneuvers }
  error: null,       // the last error shown: { where, status, message }
  busy: false,
};

let map2d = null;
let view3d = null;

function setStatus(el, kind, text) {
  el.className = `status ${kind}`;
  el.textContent = text;
}

function showError(where, el, error) {
  const status = error.status ?? 'ERROR';
  state.error = { where, status, message: error.message };
  setStatus(el, 'error', `${status}: ${error.message}`);
}

// ------------------------------------------------------------ map load ---

// GeoJSON -> map-frame rings and lines. Missing products give empty layers.
async function loadLayers(mapId, frame) {
  const optional = async (path) => {
    try {
      return await mapFile(mapId, path);
    } catch (e) {
      if (e.httpStatus === 404) return { features: [] };
      throw e;
    }
  };
  const [whitemodel, network, coverage, pois, overviewJson] = await Promise.all([
    optional('whitemodel/simplified.geojson'),
    optional('roads/network.geojson'),
    optional('roads/coverage.geojson'),
    optional('pois/pois.geojson'),
    optional('overview.json'),
  ]);
  const ring = (coords) => coords.map(([lon, lat]) => frame.enuFromWgs84(lat, lon).slice(0, 2));
  const polygons = (geometry) => {
    if (geometry?.type === 'Polygon') return [geometry.coordinates.map(ring)];
    if (geometry?.type === 'MultiPolygon') return geometry.coordinates.map((p) => p.map(ring));
    return [];
  };
  const layers = { footprints: [], coverage: [], sidewalks: [], crossings: [], pois: [], overview: null };
  for (const f of whitemodel.features ?? []) {
    for (const rings of polygons(f.geometry)) {
      layers.footprints.push({ rings, heightM: f.properties?.height_m ?? 0, groundZM: f.properties?.ground_z_m ?? 0 });
    }
  }
  for (const f of coverage.features ?? []) layers.coverage.push(...polygons(f.geometry));
  for (const f of network.features ?? []) {
    if (f.geometry?.type !== 'LineString') continue;
    const line = { points: ring(f.geometry.coordinates), widthM: f.properties?.width_m ?? 2 };
    (f.properties?.kind === 'crossing' ? layers.crossings : layers.sidewalks).push(line);
  }
  for (const f of pois.features ?? []) {
    if (f.geometry?.type !== 'Point') continue;
    const p = f.properties ?? {};
    const [lon, lat] = f.geometry.coordinates;
    const enu = Array.isArray(p.position_enu) ? p.position_enu : frame.enuFromWgs84(lat, lon);
    layers.pois.push({
      name: p.name ?? '',
      nameEn: p.name_en ?? '',
      category: p.category ?? '',
      confidence: p.confidence ?? 0,
      position: enu,
    });
  }
  if (overviewJson.metres_per_pixel) {
    try {
      const blob = await mapFile(mapId, 'overview.png', 'blob');
      layers.overview = { ...overviewJson, image: await createImageBitmap(blob) };
    } catch {
      layers.overview = null;  // the overview is an optional underlay
    }
  }
  return layers;
}

async function selectMap(mapId) {
  const info = state.maps.find((m) => m.mapId === mapId);
  if (!info) return;
  state.mapInfo = info;
  const o = info.origin ?? {};
  state.frame = new EnuFrame(o.latDeg ?? 0, o.lonDeg ?? 0, o.altM ?? 0);
  state.pose = null;
  state.route = null;
  $('map-info').textContent =
    `version ${info.mapVersion ?? '?'} · ${info.numViews ?? 0} views · ${info.numLandmarks ?? 0} landmarks · ` +
    `origin ${fmt(o.latDeg, 5)}°, ${fmt(o.lonDeg, 5)}°`;
  try {
    state.layers = await loadLayers(mapId, state.frame);
  } catch (e) {
    showError('map', $('status'), e);
    state.layers = { footprints: [], coverage: [], sidewalks: [], crossings: [], pois: [], overview: null };
  }
  fillPoiSelect();
  map2d.setData({ mapInfo: info, layers: state.layers });
  map2d.fit();
  renderPrior();
  const glbUrl = `/v1/maps/${encodeURIComponent(mapId)}/files/whitemodel/simplified.glb`;
  view3d?.setMap({ mapInfo: info, layers: state.layers, glbUrl });
  renderPose();
  renderRoute();
  updateButtons();
}

function fillPoiSelect() {
  const select = $('poi-select');
  select.replaceChildren();
  const pois = state.layers?.pois ?? [];
  if (pois.length === 0) {
    select.append(new Option('no POIs in this map', ''));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  for (const p of [...pois].sort((a, b) => a.name.localeCompare(b.name, 'zh'))) {
    select.append(new Option(p.nameEn ? `${p.name} · ${p.nameEn}` : p.name, p.name));
  }
}

// --------------------------------------------------------------- photo ---

// Defaults for a photo without a calibration: the focal length from the
// EXIF 35 mm equivalent when the phone wrote one, else a 70° field of view
// across the longer side (typical of phone main cameras); the principal
// point at the centre (pixel centres at integer coordinates).
function defaultIntrinsics(width, height, focal35Mm) {
  const f = focal35Mm
    ? focalPxFrom35mm(focal35Mm, width, height)
    : Math.max(width, height) / 2 / Math.tan((35 * Math.PI) / 180);
  return { fx: f, fy: f, cx: (width - 1) / 2, cy: (height - 1) / 2 };
}

async function onPhotoChosen(file) {
  if (!file) return;
  if (state.photo?.url) URL.revokeObjectURL(state.photo.url);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const url = URL.createObjectURL(file);
  state.photo = { file, bytes, url, name: file.name, width: 0, height: 0 };
  const preview = $('photo-preview');
  try {
    const bitmap = await createImageBitmap(file);
    state.photo.width = bitmap.width;
    state.photo.height = bitmap.height;
    bitmap.close();
    preview.src = url;
    preview.hidden = false;
    $('cam-width').value = state.photo.width;
    $('cam-height').value = state.photo.height;
    const focal35Mm = focalLength35mm(bytes);
    const k = defaultIntrinsics(state.photo.width, state.photo.height, focal35Mm);
    $('cam-fx').value = k.fx.toFixed(1);
    $('cam-fy').value = k.fy.toFixed(1);
    $('cam-cx').value = k.cx.toFixed(1);
    $('cam-cy').value = k.cy.toFixed(1);
    $('photo-note').textContent =
      `${file.name}: ${state.photo.width} × ${state.photo.height} px, ${(bytes.length / 1024).toFixed(0)} KiB. ` +
      (focal35Mm
        ? `Focal length from EXIF (${focal35Mm} mm equivalent); `
        : 'No EXIF focal length: intrinsics assume a 70° field of view; ') +
      'enter your calibration if you have it.';
  } catch {
    // Still sent as is: the server decides and says why it refuses it.
    preview.hidden = true;
    $('photo-note').textContent = `${file.name}: the browser cannot decode this file as an image.`;
  }
  updateButtons();
}

function readCamera() {
  const width = numberField('cam-width', { required: true, positive: true });
  const height = numberField('cam-height', { required: true, positive: true });
  const fx = numberField('cam-fx', { required: true, positive: true });
  const fy = numberField('cam-fy', { required: true, positive: true });
  const cx = numberField('cam-cx', { required: true });
  const cy = numberField('cam-cy', { required: true });
  const distortion = ['cam-k1', 'cam-k2', 'cam-p1', 'cam-p2'].map((id) => numberField(id) ?? 0);
  const distorted = distortion.some((d) => d !== 0);
  return {
    model: distorted ? 'OPENCV' : 'PINHOLE',
    width: Math.round(width),
    height: Math.round(height),
    params: distorted ? [fx, fy, cx, cy, ...distortion] : [fx, fy, cx, cy],
  };
}

function readPrior() {
  const prior = {};
  const lat = numberField('prior-lat');
  const lon = numberField('prior-lon');
  if ((lat === null) !== (lon === null)) throw new Error('GPS prior: give both lat and lon, or neither');
  if (lat !== null) {
    if (Math.abs(lat) > 90) throw new Error(`GPS prior lat: ${lat} is outside [-90, 90]`);
    if (Math.abs(lon) > 180) throw new Error(`GPS prior lon: ${lon} is outside [-180, 180]`);
    // A phone fix carries no useful ellipsoidal height here; the origin's is
    // the map's ground level.
    prior.position = { latDeg: lat, lonDeg: lon, altM: state.mapInfo?.origin?.altM ?? 0 };
    const accuracy = numberField('prior-acc');
    if (accuracy !== null) {
      if (accuracy < 0) throw new Error(`GPS prior accuracy: must be >= 0 (got ${accuracy})`);
      prior.accuracyM = accuracy;
    }
  }
  const gravity = ['grav-x', 'grav-y', 'grav-z'].map((id) => numberField(id));
  if (gravity.some((g) => g !== null)) {
    if (gravity.some((g) => g === null)) throw new Error('gravity: give x, y and z, or none');
    if (Math.hypot(...gravity) === 0) throw new Error('gravity: the vector is zero');
    prior.gravityInCam = { x: gravity[0], y: gravity[1], z: gravity[2] };
  }
  return Object.keys(prior).length ? prior : undefined;
}

// The photo as sent: the file's bytes, or a JPEG re-encoded at most
// `maxSide` px on its longer side with the intrinsics scaled to match (pixel
// centres at integers: u' = (u + 0.5) s - 0.5; distortion is in normalised
// coordinates and does not change).
async function photoForUpload(camera, maxSide) {
  const { width, height } = state.photo;
  if (!maxSide || !width || Math.max(width, height) <= maxSide) return { bytes: state.photo.bytes, camera };
  if (camera.width !== width || camera.height !== height) {
    const given = `${camera.width} × ${camera.height}`;
    throw new Error(`camera width/height ${given} differ from the photo's ${width} × ${height}; cannot rescale`);
  }
  const scale = maxSide / Math.max(width, height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const bitmap = await createImageBitmap(state.photo.file, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  bitmap.close();
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
  const [sx, sy] = [w / width, h / height];
  const [fx, fy, cx, cy, ...distortion] = camera.params;
  return {
    bytes: new Uint8Array(await blob.arrayBuffer()),
    camera: {
      ...camera,
      width: w,
      height: h,
      params: [fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5, ...distortion],
    },
  };
}

async function localize() {
  const status = $('status');
  if (!state.photo || !state.mapInfo) return;
  state.busy = true;
  // A route from an earlier pose no longer starts where the user is.
  state.route = null;
  setStatus($('route-status'), '', '');
  renderRoute();
  updateButtons();
  setStatus(status, 'busy', 'Localizing…');
  $('pose-details').replaceChildren();
  try {
    let request;
    try {
      const upload = await photoForUpload(readCamera(), numberField('max-side', { positive: true }));
      request = {
        mapId: state.mapInfo.mapId,
        camera: upload.camera,
        image: base64FromBytes(upload.bytes),
        prior: readPrior(),
        requestId: `web-${Date.now()}`,
      };
    } catch (e) {
      showError('input', status, { status: 'INVALID_INPUT', message: e.message });
      return;
    }
    const started = performance.now();
    const response = await api('/v1/localize', { method: 'POST', body: request });
    const roundTripMs = performance.now() - started;
    state.lastLocalize = response;
    if (!response.success) {
      state.pose = null;
      const reason = (response.failureReason ?? 'FAILURE_REASON_NONE').replace('FAILURE_REASON_', '');
      const message = response.failureMessage || 'no pose';
      showError('localize', status, { status: `Not localized (${reason})`, message });
      renderDetails(response, roundTripMs, request.camera);
    } else {
      state.error = null;
      showPose(response, request.camera, roundTripMs);
    }
  } catch (e) {
    state.pose = null;
    showError('localize', status, e);
  } finally {
    state.busy = false;
    renderPose();
    updateButtons();
  }
}

function showPose(response, camera, roundTripMs) {
  const cam = cameraInMap(response.camFromWorld ?? {});
  state.pose = {
    centreMap: cam.centre,
    headingDeg: cam.headingDeg,
    forward: cam.forward,
    worldFromCam: cam.worldFromCam,
    camera,
    geoPose: response.geoPose ?? {},
    confidence: response.confidence ?? 0,
    response,
    photoUrl: state.photo?.url ?? null,
  };
  setStatus($('status'), 'ok', `Localized with confidence ${fmt(response.confidence ?? 0, 2)}`);
  renderDetails(response, roundTripMs, camera);
}

function renderDetails(response, roundTripMs, camera) {
  const rows = [];
  const scaled = camera.width !== state.photo?.width ? ' (scaled down for upload)' : '';
  rows.push(['image sent', `${camera.width} × ${camera.height} px, ${camera.model}${scaled}`]);
  if (response.success) {
    const c = state.pose.centreMap;
    const g = state.pose.geoPose;
    rows.push(['position (map)', `x ${fmt(c[0])} m, y ${fmt(c[1])} m, z ${fmt(c[2])} m`]);
    rows.push(['WGS84', `${fmt(g.position?.latDeg, 7)}°, ${fmt(g.position?.lonDeg, 7)}°`]);
    const heading = fmt(g.headingDeg ?? state.pose.headingDeg, 1);
    rows.push(['heading', `${heading}° (pitch ${fmt(g.pitchDeg ?? 0, 1)}°, roll ${fmt(g.rollDeg ?? 0, 1)}°)`]);
    rows.push(['confidence', fmt(response.confidence ?? 0, 3)]);
  }
  rows.push(['inliers / matches', `${response.numInliers ?? 0} / ${response.numMatches ?? 0}`]);
  const views = response.numRetrievedViews ?? 0;
  rows.push(['features, views', `${response.numFeatures ?? 0} features, ${views} retrieved views`]);
  if (response.success) rows.push(['reprojection RMS', `${fmt(response.reprojectionRmsPx ?? 0)} px`]);
  rows.push(['latency', `${fmt(response.serverMs ?? 0, 0)} ms server, ${fmt(roundTripMs, 0)} ms round trip`]);
  const stages = (response.stages ?? []).map((s) => `${s.stage} ${fmt(s.ms, 0)}`).join(' · ');
  if (stages) rows.push(['stages (ms)', stages]);
  const dl = $('pose-details');
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

// The GPS prior fields, drawn on the map when both are numbers.
function renderPrior() {
  const lat = Number($('prior-lat').value);
  const lon = Number($('prior-lon').value);
  if (!state.frame || $('prior-lat').value === '' || $('prior-lon').value === '' || !Number.isFinite(lat + lon)) {
    map2d.setPrior(null);
    return;
  }
  const [x, y] = state.frame.enuFromWgs84(lat, lon);
  const accuracy = Number($('prior-acc').value);
  map2d.setPrior({ xM: x, yM: y, accuracyM: accuracy > 0 ? accuracy : 10 });
}

// Double click on the map: the GPS prior there (for photos without GPS).
function pickPrior(xM, yM) {
  if (!state.frame) return;
  const g = state.frame.wgs84FromEnu([xM, yM, 0]);
  $('prior-lat').value = g.latDeg.toFixed(7);
  $('prior-lon').value = g.lonDeg.toFixed(7);
  renderPrior();
}

function renderPose() {
  map2d.setPose(state.pose);
  view3d?.setPose(state.pose);
}

// --------------------------------------------------------------- route ---

async function route() {
  const status = $('route-status');
  const poiName = $('poi-select').value;
  if (!state.pose || !poiName) return;
  const g = state.pose.geoPose;
  const request = {
    mapId: state.mapInfo.mapId,
    requestId: `web-route-${Date.now()}`,
    start: {
      position: { latDeg: g.position?.latDeg ?? 0, lonDeg: g.position?.lonDeg ?? 0, altM: g.position?.altM ?? 0 },
      headingDeg: g.headingDeg ?? state.pose.headingDeg,
    },
    poiName,
  };
  state.busy = true;
  updateButtons();
  setStatus(status, 'busy', 'Planning…');
  try {
    const response = await api('/v1/route', { method: 'POST', body: request });
    const best = response.routes?.[0];
    if (!best) throw new ApiError(200, { status: 'NOT_FOUND', message: 'the server returned no route' });
    const toXyz = (p) => [p.x ?? 0, p.y ?? 0, p.z ?? 0];
    state.route = {
      response,
      route: best,
      polylineMap: (best.polylineMap ?? []).map(toXyz),
      arPolylineMap: (best.arPolylineMap ?? []).map(toXyz),
      maneuvers: best.maneuvers ?? [],
    };
    setStatus(status, 'ok', `Route to ${response.destinationPoi?.name ?? poiName}`);
  } catch (e) {
    state.route = null;
    showError('route', status, e);
  } finally {
    state.busy = false;
    renderRoute();
    updateButtons();
  }
}

const MANEUVER_ICONS = {
  MANEUVER_TYPE_DEPART: '●',
  MANEUVER_TYPE_STRAIGHT: '↑',
  MANEUVER_TYPE_TURN_LEFT: '↰',
  MANEUVER_TYPE_TURN_RIGHT: '↱',
  MANEUVER_TYPE_SLIGHT_LEFT: '↖',
  MANEUVER_TYPE_SLIGHT_RIGHT: '↗',
  MANEUVER_TYPE_U_TURN: '↶',
  MANEUVER_TYPE_ARRIVE: '⚑',
};

function renderRoute() {
  map2d.setRoute(state.route);
  view3d?.setRoute(state.route);
  const list = $('maneuvers');
  list.replaceChildren();
  const summary = $('route-summary');
  if (!state.route) {
    summary.textContent = state.pose ? '' : 'Localize a photo first: the route starts at the pose.';
    return;
  }
  const zh = document.querySelector('input[name=lang]:checked')?.value === 'zh';
  const r = state.route.route;
  const lengthM = fmt(r.lengthM ?? 0, 0);
  const minutes = Math.max(1, Math.round((r.etaS ?? 0) / 60));
  summary.textContent = zh
    ? `全程 ${lengthM} 米，约 ${minutes} 分钟，过街 ${r.crossings ?? 0} 次`
    : `${lengthM} m, about ${minutes} min, ${r.crossings ?? 0} street crossing(s)`;
  for (const m of state.route.maneuvers) {
    const li = document.createElement('li');
    const icon = document.createElement('span');
    icon.className = 'icon';
    icon.textContent = MANEUVER_ICONS[m.type] ?? '·';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = (zh ? m.promptZh || m.textZh : m.promptEn || m.textEn) ?? '';
    const at = document.createElement('span');
    at.className = 'at';
    at.textContent = `${fmt(m.atM ?? 0, 0)} m`;
    li.append(icon, text, at);
    list.append(li);
  }
}

// ------------------------------------------------------------ wiring -----

function updateButtons() {
  $('localize-btn').disabled = state.busy || !state.photo || !state.mapInfo;
  $('route-btn').disabled = state.busy || !state.pose || !$('poi-select').value;
}

async function init() {
  map2d = new MapView2D($('map2d'));
  try {
    view3d = new View3D($('map3d'));
  } catch (e) {
    // No WebGL (e.g. a headless browser without a GPU fallback): 2D only.
    view3d = null;
    $('map3d').textContent = `3D view unavailable: ${e.message}`;
    $('map3d').classList.add('unavailable');
  }
  $('photo-input').addEventListener('change', (e) => onPhotoChosen(e.target.files?.[0]));
  $('localize-btn').addEventListener('click', localize);
  $('route-btn').addEventListener('click', route);
  $('poi-select').addEventListener('change', updateButtons);
  $('map-select').addEventListener('change', (e) => selectMap(e.target.value));
  $('fit-btn').addEventListener('click', () => map2d.fit());
  map2d.onPick = pickPrior;
  for (const id of ['prior-lat', 'prior-lon', 'prior-acc']) $(id).addEventListener('input', renderPrior);
  $('overview-toggle').addEventListener('change', (e) => map2d.setShowOverview(e.target.checked));
  for (const radio of document.querySelectorAll('input[name=lang]')) radio.addEventListener('change', renderRoute);

  try {
    const { maps = [] } = await api('/v1/maps');
    state.maps = maps;
  } catch (e) {
    showError('maps', $('status'), e);
    return;
  }
  const select = $('map-select');
  for (const m of state.maps) select.append(new Option(m.mapId, m.mapId));
  if (state.maps.length === 0) {
    setStatus($('status'), 'error', 'The server serves no maps.');
    return;
  }
  await selectMap(state.maps[0].mapId);
  document.body.dataset.ready = 'true';
}

window.armapDemo = {
  state,
  // Map frame (metres) -> viewport CSS pixels of the 2D map, for tests.
  mapToCanvasPx: (xM, yM) => map2d.mapToPagePx(xM, yM),
  ready: init(),
};
