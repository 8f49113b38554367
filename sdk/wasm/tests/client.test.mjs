// ArmapClient against a stand-in fetch (no server): request bodies and
// headers, checks that fail before anything is sent (naming the field),
// response parsing, the API's error bodies, network failures and
// deadlines; GuidanceSession re-routing through the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdk } from './sdk.mjs';

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]);
const CAMERA = { model: 'PINHOLE', width: 1280, height: 960, params: [1000, 1000, 639.5, 479.5] };

// A fetch answering from `handler(url, init)` -> {status, body}; records calls.
function fakeFetch(handler) {
  const calls = [];
  const f = async (url, init) => {
    calls.push({ url, init });
    const { status = 200, body = '{}' } = await handler(url, init);
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
  f.calls = calls;
  return f;
}

test('localizeImage: the request body and the parsed result', async () => {
  const h = Math.SQRT1_2;
  const fetch = fakeFetch(() => ({
    body: { success: true, camFromWorld: { qw: h, qz: h, translation: { x: 1, y: 2, z: 3 } }, confidence: 0.8,
            numInliers: 120, mapId: 'city', mapVersion: '3', requestId: 'r1',
            geoPose: { position: { latDeg: 31.2, lonDeg: 121.4, altM: 5 }, headingDeg: 10 } },
  }));
  const client = new sdk.ArmapClient('http://127.0.0.1:9/', { fetch, timeoutMs: 1500 });
  const r = await client.localizeImage(JPEG, CAMERA, {
    mapId: 'city', requestId: 'r1', prior: { position: { latDeg: 31.2, lonDeg: 121.4 }, accuracyM: 10, gravityInCam: { x: 0, y: 1, z: 0 } },
  });
  assert.equal(fetch.calls.length, 1);
  const { url, init } = fetch.calls[0];
  assert.equal(url, 'http://127.0.0.1:9/v1/localize');
  assert.equal(init.method, 'POST');
  assert.equal(init.headers['X-Armap-Timeout-Ms'], '1500');
  assert.equal(init.headers['Content-Type'], 'application/json');
  const body = JSON.parse(init.body);
  assert.equal(body.image, Buffer.from(JPEG).toString('base64'));
  assert.equal(body.mapId, 'city');
  assert.deepEqual(body.camera, CAMERA);
  assert.equal(body.prior.accuracyM, 10);
  assert.deepEqual(body.prior.gravityInCam, { x: 0, y: 1, z: 0 });
  // cam_from_world: 90 deg about z, t = (1, 2, 3): the camera is at -R^T t = (-2, 1, -3).
  assert.equal(r.success, true);
  [-2, 1, -3].forEach((v, i) => assert.ok(Math.abs(r.cameraPositionMap[i] - v) < 1e-12, `${r.cameraPositionMap}`));
  assert.ok(Math.abs(r.mapFromCam.qz + h) < 1e-12);
  assert.equal(r.mapVersion, 3);
  assert.equal(r.numMatches, 0);  // omitted by proto3 JSON, filled in
  assert.equal(r.failureReason, 'NONE');
  assert.equal(r.geoPose.headingDeg, 10);
  assert.ok(r.clientMs >= 0);
});

test('invalid requests fail before anything is sent, naming the field', async () => {
  const fetch = fakeFetch(() => ({ body: {} }));
  const client = new sdk.ArmapClient('http://127.0.0.1:9', { fetch });
  const cases = [
    [() => client.localizeImage(JPEG, { ...CAMERA, params: [0, 1000, 639.5, 479.5] }),
     'LocalizeRequest.camera.params[0] (fx) = 0; must be > 0 and finite'],
    [() => client.localizeImage(JPEG, { ...CAMERA, params: [1000, Infinity, 639.5, 479.5] }), 'LocalizeRequest.camera.params[1] (fy)'],
    [() => client.localizeImage(JPEG, { ...CAMERA, width: 0 }), 'LocalizeRequest.camera.width = 0'],
    [() => client.localizeImage(new Uint8Array(0), CAMERA), 'LocalizeRequest.image: is empty'],
    [() => client.localizeImage(new Uint8Array([1, 2, 3, 4]), CAMERA), 'are not a JPEG'],
    [() => client.localizeImage(JPEG, CAMERA, { prior: { position: { latDeg: 91, lonDeg: 0 } } }),
     'LocalizeRequest.prior.position.latDeg = 91; must be in [-90, 90]'],
    [() => client.localizeImage(JPEG, CAMERA, { prior: { position: { latDeg: 30, lonDeg: 200 } } }), 'LocalizeRequest.prior.position.lonDeg = 200'],
    [() => client.localizeImage(JPEG, CAMERA, { prior: { accuracyM: -1 } }), 'LocalizeRequest.prior.accuracyM = -1'],
    [() => client.localizeImage(JPEG, CAMERA, { prior: { gravityInCam: { x: 0, y: 0, z: 0 } } }), 'LocalizeRequest.prior.gravityInCam: is zero'],
    [() => client.localizeFeatures({ keypoints: [1, 2, 3], descriptors: new Uint8Array(3), descriptorDim: 3 }, CAMERA),
     'LocalizeRequest.features.keypoints has 3 floats'],
    [() => client.localizeFeatures({ keypoints: [1, 2, 3, 4], descriptors: new Uint8Array(5), descriptorDim: 3 }, CAMERA),
     'LocalizeRequest.features.descriptors has 5 bytes; expected 1 keypoints x 3 = 3'],
    [() => client.route({ start: { position: { latDeg: 31, lonDeg: 121 } } }), 'RouteRequest: no destination'],
    [() => client.route({ start: { position: { latDeg: 31, lonDeg: 121 } }, poiName: 'x', options: { crossingPenaltyM: -5 } }),
     'RouteRequest.options.crossingPenaltyM = -5'],
  ];
  for (const [call, expected] of cases) {
    await assert.rejects(call, (e) => {
      assert.ok(e instanceof sdk.ArmapError, String(e));
      assert.equal(e.status, 'INVALID_ARGUMENT');
      assert.equal(e.code, 3);
      assert.ok(e.message.includes(expected), `"${e.message}" lacks "${expected}"`);
      return true;
    });
  }
  assert.equal(fetch.calls.length, 0);
  assert.throws(() => new sdk.ArmapClient('localhost:8080'), /baseUrl/);
  assert.throws(() => new sdk.ArmapClient('http://h', { fetch, timeoutMs: 0 }), /timeoutMs/);
});

test('API errors, network failures and deadlines', async () => {
  const notFound = fakeFetch(() => ({ status: 404, body: { code: 5, status: 'NOT_FOUND', message: 'map "x" is not served' } }));
  await assert.rejects(new sdk.ArmapClient('http://h', { fetch: notFound }).getMapInfo('x'), (e) =>
    e.status === 'NOT_FOUND' && e.code === 5 && e.httpStatus === 404 && e.detail === 'map "x" is not served');
  assert.equal(notFound.calls[0].url, 'http://h/v1/maps/x');
  const proxy = fakeFetch(() => ({ status: 502, body: '<html>bad gateway</html>' }));
  await assert.rejects(new sdk.ArmapClient('http://h', { fetch: proxy }).listMaps(), (e) => e.status === 'UNKNOWN' && /HTTP 502/.test(e.message));
  const down = async () => { throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }); };
  await assert.rejects(new sdk.ArmapClient('http://127.0.0.1:9', { fetch: down }).listMaps(), (e) =>
    e.status === 'UNAVAILABLE' && /ECONNREFUSED/.test(e.message));
  // A server that never answers: aborted shortly after the deadline.
  const hang = (url, init) => new Promise((resolve, reject) => {
    init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
  const started = Date.now();
  await assert.rejects(new sdk.ArmapClient('http://h', { fetch: hang, timeoutMs: 100 }).listMaps(), (e) => e.status === 'DEADLINE_EXCEEDED');
  assert.ok(Date.now() - started < 2000);
  const garbage = fakeFetch(() => ({ body: 'not json' }));
  await assert.rejects(new sdk.ArmapClient('http://h', { fetch: garbage }).listMaps(), /ListMapsResponse: not valid JSON/);
});

test('listMaps, route and a GuidanceSession re-routing through the client', async () => {
  const origin = { latDeg: 31.2304, lonDeg: 121.4737, altM: 4 };
  const frame = new sdk.EnuFrame(origin);
  const routeFrom = (x, y) => ({
    routes: [{
      lengthM: 60, polylineMap: [{ x, y }, { x, y: 50 }, { x: 40, y: 50 }].map((p) => ({ z: 0, ...p })),
      maneuvers: [{ type: 'MANEUVER_TYPE_DEPART', headingDeg: 0 }, { type: 'MANEUVER_TYPE_TURN_RIGHT', atM: 50 - y, headingDeg: 90 },
                  { type: 'MANEUVER_TYPE_ARRIVE', atM: 90 - y }],
    }],
    destinationPoi: { id: '7', name: '咖啡', nameEn: 'Cafe', positionMap: { x: 40, y: 50 } },
  });
  const requests = [];
  const fetch = fakeFetch((url, init) => {
    if (url.endsWith('/v1/maps')) return { body: { maps: [{ mapId: 'city', mapVersion: '2', origin, numViews: '8' }] } };
    const body = JSON.parse(init.body);
    requests.push(body);
    const enu = frame.enuFromWgs84(body.start.position);
    return { body: routeFrom(enu[0], enu[1]) };
  });
  const client = new sdk.ArmapClient('http://h', { fetch });
  const maps = await client.listMaps();
  assert.equal(maps.length, 1);
  assert.equal(maps[0].numViews, 8);
  assert.equal(maps[0].bboxMinM.length, 3);

  const session = new sdk.GuidanceSession(client, { mapId: 'city', poiName: 'Cafe' }, frame);
  let t = 0;
  let u = await session.start({ positionMap: [0, 0, 0], headingDeg: 0, timeS: t });
  assert.equal(requests.length, 1);
  assert.equal(requests[0].poiName, 'Cafe');
  assert.equal(requests[0].mapId, 'city');
  assert.equal(u.next.type, 'TURN_RIGHT');
  assert.equal(session.destinationPoi.nameEn, 'Cafe');
  // Walk north, then wander 15 m west of the route: off-route re-plans from
  // where the walker is.
  for (let s = 0.6; s <= 20; s += 0.6) u = await session.update({ positionMap: [0, s, 0], headingDeg: 0, timeS: (t += 0.5) });
  assert.equal(u.rerouted, false);
  let rerouted = null;
  for (let x = 0.6; x <= 15 && !rerouted; x += 0.6) {
    u = await session.update({ positionMap: [-x, 20, 0], headingDeg: 270, timeS: (t += 0.5) });
    if (u.rerouted) rerouted = { x, u };
  }
  assert.ok(rerouted, 'never re-routed');
  assert.equal(requests.length, 2);
  const start = frame.enuFromWgs84(requests[1].start.position);
  assert.ok(Math.abs(start[0] + rerouted.x) < 1e-6 && Math.abs(start[1] - 20) < 1e-6, `re-route from ${start}`);
  assert.equal(requests[1].start.headingDeg, 270);
  assert.equal(rerouted.u.offRoute, false);
  assert.equal(rerouted.u.routeVersion, 1);
  assert.ok(rerouted.u.distanceToRouteM < 1e-6);
  session.dispose();
  frame.dispose();
});

test('a failing re-route is reported and retried after rerouteRetryS', async () => {
  const frame = new sdk.EnuFrame({ latDeg: 31.2304, lonDeg: 121.4737, altM: 4 });
  let calls = 0;
  const fetch = fakeFetch(() => {
    ++calls;
    if (calls === 1) {
      return { body: { routes: [{ polylineMap: [{ x: 0, y: 0 }, { x: 0, y: 100 }],
                                  maneuvers: [{ type: 'MANEUVER_TYPE_DEPART' }, { type: 'MANEUVER_TYPE_ARRIVE', atM: 100 }] }] } };
    }
    return { status: 400, body: { code: 3, status: 'INVALID_ARGUMENT', message: 'RouteRequest.start: start is 80 m from the pedestrian network' } };
  });
  const session = new sdk.GuidanceSession(new sdk.ArmapClient('http://h', { fetch }), { point: { latDeg: 31.231, lonDeg: 121.474 }, rerouteRetryS: 2 }, frame);
  await session.start({ positionMap: [0, 0, 0], timeS: 0 });
  const errors = [];
  for (let k = 1; k <= 12; ++k) {
    const u = await session.update({ positionMap: [80, 10, 0], timeS: 0.5 * k });
    if (u.rerouteError) errors.push({ t: 0.5 * k, error: u.rerouteError, offRoute: u.offRoute });
  }
  // Off-route from the third pose (t = 1.5 s), then attempts every 2 s: 1.5, 3.5, 5.5.
  assert.deepEqual(errors.map((e) => e.t), [1.5, 3.5, 5.5]);
  assert.ok(errors.every((e) => e.offRoute && /start is 80 m from the pedestrian network/.test(e.error)), JSON.stringify(errors));
  assert.equal(calls, 4);
  assert.equal(session.routeVersion, 0);
  session.dispose();
  frame.dispose();
});
