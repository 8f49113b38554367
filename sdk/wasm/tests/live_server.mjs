// Run by sdk/wasm/live_test.cc against a real `armap serve --http-port 0` on
// the small fixture map with one POI (ARMAP_TEST_*: the server's URL, a
// localizable fixture query and its ground truth, the POI and a start on
// the network). Not picked up by `node --test tests/` (no .test. in the name).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'fs';
import { sdk, matrixFromQuat, transpose, apply, norm, sub } from './sdk.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through ctest -R sdk/wasm/live_test)`);
  return v;
};
const numbers = (name) => env(name).split(',').map(Number);

const url = env('ARMAP_TEST_HTTP');
const client = new sdk.ArmapClient(url, { timeoutMs: 20000 });

test('map info and files', async () => {
  const maps = await client.listMaps();
  assert.equal(maps.length, 1);
  const info = await client.getMapInfo(maps[0].mapId);
  assert.equal(info.mapId, maps[0].mapId);
  assert.ok(info.numViews > 0 && info.numLandmarks > 0, JSON.stringify(info));
  assert.ok(Math.abs(info.origin.latDeg) > 0);
  const network = JSON.parse(new TextDecoder().decode(await client.getMapFile(info.mapId, 'roads/network.geojson')));
  assert.equal(network.type, 'FeatureCollection');
  assert.ok(network.features.length > 0);
  await assert.rejects(client.getMapInfo('no-such-map'), (e) => e.status === 'NOT_FOUND' && e.httpStatus === 404);
});

test('localizes a fixture photo to its ground truth', async () => {
  const [model, width, height, ...params] = env('ARMAP_TEST_QUERY_CAMERA').split(',');
  const [latDeg, lonDeg, altM, accuracyM] = numbers('ARMAP_TEST_QUERY_PRIOR');
  const [gx, gy, gz] = numbers('ARMAP_TEST_QUERY_GRAVITY');
  const image = readFileSync(env('ARMAP_TEST_QUERY_IMAGE'));
  const r = await client.localizeImage(image, { model, width: Number(width), height: Number(height), params: params.map(Number) }, {
    prior: { position: { latDeg, lonDeg, altM }, accuracyM, gravityInCam: { x: gx, y: gy, z: gz } }, requestId: 'wasm-test',
  });
  assert.ok(r.success, `${r.failureReason}: ${r.failureMessage}`);
  assert.equal(r.requestId, 'wasm-test');
  assert.ok(r.numInliers > 20, `${r.numInliers} inliers`);
  assert.ok(r.confidence > 0.5, `confidence ${r.confidence}`);
  // The true camera centre: -R^T t of the ground-truth cam_from_world.
  const R = matrixFromQuat(numbers('ARMAP_TEST_GT_Q'));
  const centre = apply(transpose(R), numbers('ARMAP_TEST_GT_T')).map((v) => -v);
  const error = norm(sub(r.cameraPositionMap, centre));
  // The C# SDK test's tolerance for the same query.
  assert.ok(error < 0.5, `camera centre off by ${error} m`);
  console.log(`localized: centre ${error.toFixed(3)} m from the truth, ${r.numInliers} inliers, ` +
              `confidence ${r.confidence.toFixed(2)}, client ${r.clientMs.toFixed(0)} ms`);
  // The geo pose the server reports is the map pose in WGS84.
  const info = (await client.listMaps())[0];
  const frame = new sdk.EnuFrame(info.origin);
  const g = frame.geoPoseFromMapFromCam(r.mapFromCam);
  assert.ok(norm(sub(frame.enuFromWgs84(r.geoPose.position), frame.enuFromWgs84(g.position))) < 1e-3);
  assert.ok(Math.abs(((g.headingDeg - r.geoPose.headingDeg + 540) % 360) - 180) < 1e-3);
  frame.dispose();
  // A fusion fix from the result.
  const fusion = new sdk.PoseFusion({ sessionUpAxis: 'z' });
  fusion.addTracking(0, r.mapFromCam);
  assert.equal(fusion.addLocalizeResult(0, r), 'initialized');
  fusion.dispose();
  // The server's own checks come back as ArmapError.
  await assert.rejects(client.localizeImage(image, { model, width: Number(width), height: Number(height), params: params.map(Number) },
                                            { mapId: 'no-such-map' }), (e) => e.status === 'NOT_FOUND');
});

test('routes to a POI and follows the route; a wrong way re-routes', async () => {
  const [latDeg, lonDeg, altM] = numbers('ARMAP_TEST_START');
  const poiName = env('ARMAP_TEST_POI');
  const result = await client.route({ start: { position: { latDeg, lonDeg, altM } }, poiName, requestId: 'wasm-route' });
  assert.equal(result.requestId, 'wasm-route');
  assert.equal(result.destinationPoi.nameEn, poiName);
  const route = result.routes[0];
  assert.ok(route.lengthM > 20, `route of ${route.lengthM} m`);
  assert.equal(route.maneuvers[0].type, 'DEPART');
  assert.equal(route.maneuvers.at(-1).type, 'ARRIVE');
  // Walk the route's own polyline at 1.2 m/s, 2 poses a second.
  const follower = new sdk.RouteFollower();
  follower.setRoute(route);
  assert.ok(Math.abs(follower.lengthM - route.lengthM) < 0.01, `${follower.lengthM} vs ${route.lengthM}`);
  const line = route.polylineMap;
  let t = 0, u = null, offRoute = 0;
  const prompts = new Set();
  for (let i = 1; i < line.length; ++i) {
    const leg = sub(line[i], line[i - 1]);
    const steps = Math.max(1, Math.ceil(norm(leg.slice(0, 2)) / 0.6));
    for (let k = 1; k <= steps; ++k) {
      const p = line[i - 1].map((v, j) => v + (leg[j] * k) / steps);
      u = follower.update({ positionMap: p, timeS: (t += 0.5) });
      offRoute += u.offRoute ? 1 : 0;
      prompts.add(u.promptEn);
    }
  }
  assert.equal(offRoute, 0);
  assert.equal(u.arrived, true);
  assert.equal(u.promptEn, 'You have arrived');
  assert.ok([...prompts].some((p) => /^In \d+ m, /.test(p) || /for \d+ m$/.test(p)), [...prompts].join(' | '));
  follower.dispose();

  // GuidanceSession: start at the route's start, walk 15 m off to the side
  // of the first leg: off-route re-plans through POST /v1/route.
  const info = (await client.listMaps())[0];
  const frame = new sdk.EnuFrame(info.origin);
  const session = new sdk.GuidanceSession(client, { poiName }, frame);
  const start = line[0];
  await session.start({ positionMap: start, timeS: 0 });
  const leg = sub(line[1], line[0]);
  const side = [-leg[1] / norm(leg.slice(0, 2)), leg[0] / norm(leg.slice(0, 2)), 0];
  let rerouted = null;
  for (let s = 0.6, time = 0.5; s <= 20 && !rerouted; s += 0.6, time += 0.5) {
    const g = await session.update({ positionMap: [start[0] + side[0] * s, start[1] + side[1] * s, start[2]], timeS: time });
    if (g.rerouted) rerouted = g;
  }
  assert.ok(rerouted, 'walking 20 m off the route never re-routed');
  console.log(`route ${route.lengthM.toFixed(1)} m, ${route.maneuvers.length} maneuvers; re-routed after ` +
              `walking off: new route ${session.route.lengthM.toFixed(1)} m`);
  assert.equal(rerouted.routeVersion, 1);
  assert.equal(rerouted.offRoute, false);
  // The new route starts where the walker's position meets the network.
  assert.ok(rerouted.distanceToRouteM <= session.route.startSnapDistanceM + 0.01,
            `${rerouted.distanceToRouteM} m from the new route, which starts ${session.route.startSnapDistanceM} m away`);
  session.dispose();
  frame.dispose();
});
