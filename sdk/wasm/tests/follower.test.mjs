// RouteFollower (navigation/route_follower.cc in wasm) on an L-shaped route:
// 50 m north, a right turn, 40 m east. Expectations as the native guidance
// tests (navigation/navigation_test.cc): prompts with spoken distances,
// off-route only after 3 poses over 0.9 s more than 6 m off (a single spike
// is ignored), detected within 10 m of a wrong turn, arrival at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdk } from './sdk.mjs';

const route = {
  polylineMap: [[0, 0, 0], [0, 25, 0], [0, 50, 0], [20, 50, 0], [40, 50, 0]],
  maneuvers: [
    { type: 'DEPART', atM: 0, headingDeg: 0, turnDeg: 0, ontoCrossing: false, textZh: '向北出发', textEn: 'Head north' },
    { type: 'TURN_RIGHT', atM: 50, headingDeg: 90, turnDeg: -90, ontoCrossing: false, textZh: '右转', textEn: 'Turn right' },
    { type: 'ARRIVE', atM: 90, headingDeg: 90, turnDeg: 0, ontoCrossing: false, textZh: '到达目的地', textEn: 'You have arrived' },
  ],
};

test('progress, prompts and arrival along the route', () => {
  const f = new sdk.RouteFollower();
  f.setRoute(route);
  assert.equal(f.lengthM, 90);
  let t = 0;
  let u = f.update({ positionMap: [0.4, 20, 0], headingDeg: 2, timeS: t });
  assert.ok(Math.abs(u.progressM - 20) < 1e-9, `progress ${u.progressM}`);
  assert.ok(Math.abs(u.distanceToRouteM - 0.4) < 1e-9);
  assert.equal(u.next.type, 'TURN_RIGHT');
  assert.ok(Math.abs(u.distanceToNextM - 30) < 1e-9);
  assert.equal(u.promptEn, 'In 30 m, turn right');
  assert.equal(u.promptZh, '在 30 米后右转');
  assert.equal(u.offRoute, false);
  // Walk on at 1.2 m/s, 2 poses a second, to the end.
  let arrivedAt = null;
  for (let s = 20.6; s <= 90; s += 0.6) {
    const p = s <= 50 ? [0, s, 0] : [s - 50, 50, 0];
    u = f.update({ positionMap: p, headingDeg: s <= 50 ? 0 : 90, timeS: (t += 0.5) });
    assert.equal(u.offRoute, false, `off-route at ${s} m`);
    assert.ok(Math.abs(u.progressM - s) < 1e-6, `progress ${u.progressM} at ${s}`);
    if (u.arrived && arrivedAt === null) arrivedAt = s;
  }
  // Arrival within arrivalRadiusM (4 m) of the goal.
  assert.ok(arrivedAt !== null && arrivedAt >= 86 - 1e-9, `arrived at ${arrivedAt}`);
  assert.equal(u.promptEn, 'You have arrived');
  assert.equal(u.promptZh, '到达目的地');
  assert.equal(f.arrived, true);
  assert.throws(() => f.update({ positionMap: [0, 0, 0], timeS: 1 }), /time went backwards/);
  f.dispose();
});

test('hysteresis: a spike is ignored, a sustained offset is not', () => {
  const f = new sdk.RouteFollower({});
  f.setRoute(route);
  let t = 0;
  const feed = (x, y) => f.update({ positionMap: [x, y, 0], headingDeg: 0, timeS: (t += 0.5) });
  assert.equal(feed(0, 10).offRoute, false);
  assert.equal(feed(9, 11).offRoute, false);  // one jump of 9 m
  assert.equal(feed(0, 12).offRoute, false);
  assert.equal(feed(8, 13).offRoute, false);
  assert.equal(feed(8, 14).offRoute, false);
  const entered = feed(8, 15);
  assert.equal(entered.offRouteEntered, true);  // the third consecutive pose
  assert.equal(entered.promptEn, 'You are off the route');
  assert.equal(entered.promptZh, '已偏离路线');
  // Left only below onrouteDistanceM (3 m), after two poses.
  assert.equal(feed(4, 16).offRoute, true);
  assert.equal(feed(1, 17).offRoute, true);
  assert.equal(feed(1, 18).offRoute, false);
  f.dispose();
});

test('a wrong turn is detected within 10 m and a new route rejoined', () => {
  const f = new sdk.RouteFollower();
  f.setRoute(route);
  let t = 0, detectedAt = null, u;
  for (let s = 0; s < 80; s += 0.6) {
    // North to the corner, then west (the wrong way).
    const p = s <= 50 ? [0, s, 0] : [-(s - 50), 50, 0];
    u = f.update({ positionMap: p, headingDeg: s <= 50 ? 0 : 270, timeS: (t += 0.5) });
    if (u.offRouteEntered) {
      detectedAt = s - 50;
      break;
    }
  }
  assert.ok(detectedAt !== null && detectedAt > 0 && detectedAt <= 10, `detected ${detectedAt} m after the corner`);
  // The re-route (as GuidanceSession gets it from POST /v1/route): back east.
  const here = [-detectedAt, 50, 0];
  f.setRoute({
    polylineMap: [here, [0, 50, 0], [40, 50, 0]],
    maneuvers: [{ type: 'DEPART', atM: 0, headingDeg: 90 }, { type: 'ARRIVE', atM: detectedAt + 40, headingDeg: 90 }],
  });
  u = f.rejoin({ positionMap: here, headingDeg: 270, timeS: t });
  assert.equal(u.offRoute, false);
  assert.ok(u.progressM < 1e-6 && u.distanceToRouteM < 1e-6);
  assert.equal(u.next.type, 'ARRIVE');
  assert.ok(Math.abs(u.distanceToNextM - (detectedAt + 40)) < 1e-6);
  f.dispose();
});

test('spoken distances and prompts', () => {
  assert.equal(sdk.roundedDistanceM(7.4), 7);
  assert.equal(sdk.roundedDistanceM(23), 25);
  assert.equal(sdk.roundedDistanceM(212), 210);
  assert.deepEqual(sdk.promptFor({ type: 'STRAIGHT', atM: 10, ontoCrossing: true }, 10),
                   { zh: '在 10 米后直行过马路', en: 'In 10 m, go straight across the street' });
  assert.deepEqual(sdk.promptFor({ type: 'TURN_LEFT', atM: 0 }, 0.4), { zh: '现在左转', en: 'Turn left now' });
  assert.deepEqual(sdk.promptFor({ type: 'DEPART', atM: 0, headingDeg: 90 }, 42), { zh: '向东出发，直行 40 米', en: 'Head east for 40 m' });
  assert.throws(() => sdk.promptFor({ type: 'JUMP' }, 3), /maneuver.type = "JUMP"/);
});

test('bad options and routes name the field', () => {
  assert.throws(() => new sdk.RouteFollower({ onrouteDistanceM: 8 }), /RouteFollowOptions::onroute_distance_m = 8; must be < offroute_distance_m/);
  assert.throws(() => new sdk.RouteFollower({ offrouteMinPoses: 1.5 }), /offrouteMinPoses: must be an integer/);
  const f = new sdk.RouteFollower();
  assert.throws(() => f.setRoute({ polylineMap: [[0, 0, 0]], maneuvers: [] }), /fewer than 2 points/);
  assert.throws(() => f.setRoute({ polylineMap: [[0, 0], [1, 1]], maneuvers: [] }), /route.polylineMap\[0\]: must be \[x, y, z\]/);
  assert.throws(() => f.update({ positionMap: [0, 0, 0], timeS: 0 }), /no route/);
  f.dispose();
});
