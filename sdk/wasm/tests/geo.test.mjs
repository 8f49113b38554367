// WGS84 / ECEF / ENU and pose helpers of the WebAssembly core against known
// values (the native tests compare the same C++ with GeographicLib).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdk, pose, rotZ, mul, rotX } from './sdk.mjs';

const A = 6378137.0;
const B = 6356752.314245179;  // WGS84 semi-minor axis

test('ECEF of known points', () => {
  const close = (a, b, tol, what) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < tol, `${what}: ${a} vs ${b}`));
  close(sdk.ecefFromWgs84({ latDeg: 0, lonDeg: 0, altM: 0 }), [A, 0, 0], 1e-6, 'equator, Greenwich');
  close(sdk.ecefFromWgs84({ latDeg: 0, lonDeg: 90, altM: 100 }), [0, A + 100, 0], 1e-6, 'equator, 90E');
  close(sdk.ecefFromWgs84({ latDeg: 90, lonDeg: 0, altM: 0 }), [0, 0, B], 1e-6, 'north pole');
  close(sdk.ecefFromWgs84({ latDeg: -90, lonDeg: 0, altM: 10 }), [0, 0, -B - 10], 1e-6, 'south pole');
});

test('WGS84 round trips to well under a millimetre', () => {
  for (const p of [{ latDeg: 31.2304, lonDeg: 121.4737, altM: 4 }, { latDeg: -33.8688, lonDeg: 151.2093, altM: 58 },
                   { latDeg: 89.99, lonDeg: -179.9, altM: 9000 }, { latDeg: 0.001, lonDeg: 0.001, altM: -400 }]) {
    const back = sdk.wgs84FromEcef(sdk.ecefFromWgs84(p));
    assert.ok(Math.abs(back.latDeg - p.latDeg) * 111320 < 1e-6, `lat ${back.latDeg} vs ${p.latDeg}`);
    assert.ok(Math.abs(back.lonDeg - p.lonDeg) * 111320 < 1e-6, `lon ${back.lonDeg} vs ${p.lonDeg}`);
    assert.ok(Math.abs(back.altM - p.altM) < 1e-6, `alt ${back.altM} vs ${p.altM}`);
  }
});

test('ENU frame: 1 km east on the equator, and round trips', () => {
  const frame = new sdk.EnuFrame({ latDeg: 0, lonDeg: 0, altM: 0 });
  const east = frame.enuFromWgs84({ latDeg: 0, lonDeg: (1000 / A) * 180 / Math.PI, altM: 0 });
  assert.ok(Math.abs(east[0] - 1000) < 1e-3, `east ${east}`);
  assert.ok(Math.abs(east[1]) < 1e-6);
  // The ellipsoid falls below the tangent plane by d^2 / (2 a).
  assert.ok(Math.abs(east[2] + 1e6 / (2 * A)) < 1e-4, `up ${east[2]}`);
  frame.dispose();
  const city = new sdk.EnuFrame({ latDeg: 31.2304, lonDeg: 121.4737, altM: 12.5 });
  for (const enu of [[0, 0, 0], [120.5, -80.25, 3], [-2500, 4000, 150]]) {
    const back = city.enuFromWgs84(city.wgs84FromEnu(enu));
    back.forEach((v, i) => assert.ok(Math.abs(v - enu[i]) < 1e-6, `${back} vs ${enu}`));
  }
  assert.deepEqual(city.origin, { latDeg: 31.2304, lonDeg: 121.4737, altM: 12.5 });
  city.dispose();
});

test('geo pose of a camera looking east, 10 degrees up', () => {
  const frame = new sdk.EnuFrame({ latDeg: 30, lonDeg: 120, altM: 0 });
  // OpenCV camera: columns right, down, forward in the map frame.
  const h = Math.PI / 2, p = (10 * Math.PI) / 180;
  const forward = [Math.sin(h) * Math.cos(p), Math.cos(h) * Math.cos(p), Math.sin(p)];
  const right = [Math.cos(h), -Math.sin(h), 0];
  const down = [forward[1] * right[2] - forward[2] * right[1], forward[2] * right[0] - forward[0] * right[2],
                forward[0] * right[1] - forward[1] * right[0]];
  const m = [right[0], down[0], forward[0], right[1], down[1], forward[1], right[2], down[2], forward[2]];
  const g = frame.geoPoseFromMapFromCam(pose(m, [10, 20, 1.5]));
  assert.ok(Math.abs(g.headingDeg - 90) < 1e-9, `heading ${g.headingDeg}`);
  assert.ok(Math.abs(g.pitchDeg - 10) < 1e-9, `pitch ${g.pitchDeg}`);
  assert.ok(Math.abs(g.rollDeg) < 1e-9, `roll ${g.rollDeg}`);
  const enu = frame.enuFromWgs84(g.position);
  assert.ok(Math.abs(enu[0] - 10) < 1e-6 && Math.abs(enu[1] - 20) < 1e-6 && Math.abs(enu[2] - 1.5) < 1e-6);
  frame.dispose();
});

test('compose and inverse', () => {
  const aFromB = pose(mul(rotZ(0.7), rotX(0.3)), [1, -2, 3]);
  const id = sdk.compose(aFromB, sdk.inverse(aFromB));
  assert.ok(Math.abs(id.qw - 1) < 1e-12);
  assert.ok(Math.hypot(id.translation.x, id.translation.y, id.translation.z) < 1e-12);
});

test('bad input is an ArmapError naming the problem', () => {
  assert.throws(() => new sdk.EnuFrame({ latDeg: 95, lonDeg: 0, altM: 0 }),
                (e) => e instanceof sdk.ArmapError && e.status === 'INVALID_ARGUMENT' && /latDeg/.test(e.message));
  assert.throws(() => sdk.ecefFromWgs84({ latDeg: NaN, lonDeg: 0, altM: 0 }), /INVALID_ARGUMENT/);
  assert.throws(() => sdk.wgs84FromEcef([0, 0, 0]), /centre/);
});
