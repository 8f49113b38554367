// PoseFusion (the C++ PoseFusionCore in wasm) on a short simulated AR walk,
// built the way sdk/cpp/fusion_sim.h builds the native tests' walks: an
// OpenCV camera walking at 1.4 m/s, tracked at 60 Hz in a y-up session frame
// that is rotated and shifted from the map, fixes every 5 s with 3 cm and
// 0.3 deg noise delivered 0.3-0.7 s late, and one fix 5 m and 15 deg off.
// Expectations as the native tests': the outlier rejected, no good fix
// rejected, the anchor error of a point 7.5 m ahead below 5 cm (median) and
// 12 cm (max) after the third fix, no visible jump between frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdk, pose, poseMatrix, poseT, rotZ, rotX, mul, apply, transpose, add, sub, norm, gaussian } from './sdk.mjs';

function cameraRotation(heading, pitch) {
  const forward = [Math.cos(heading) * Math.cos(pitch), Math.sin(heading) * Math.cos(pitch), Math.sin(pitch)];
  const r = [Math.sin(heading), -Math.cos(heading), 0];
  const rn = norm(r);
  const right = r.map((v) => v / rn);
  const down = [forward[1] * right[2] - forward[2] * right[1], forward[2] * right[0] - forward[0] * right[2],
                forward[0] * right[1] - forward[1] * right[0]];
  return [right[0], down[0], forward[0], right[1], down[1], forward[1], right[2], down[2], forward[2]];
}

function simulate({ outlierFix = 6, durationS = 60 } = {}) {
  const normal = gaussian(42);
  const rate = 60, dt = 1 / rate;
  // The session frame in the map (z up) and the y-up session's rotation from it.
  const mapFromG = rotZ(1.1), mapFromGT = [12, -7, 0.4];
  const sessionFromG = rotX(-Math.PI / 2);
  const frames = [], fixes = [];
  let heading = 0.3;
  let position = [5, 5, 1.5];
  for (let k = 0; k < durationS * rate; ++k) {
    const t = k * dt;
    heading += 0.15 * Math.sin(0.2 * t) * dt;  // a gently winding walk
    position = add(position, [1.4 * dt * Math.cos(heading), 1.4 * dt * Math.sin(heading), 0]);
    const rMap = cameraRotation(heading + 0.2 * Math.sin(0.5 * t), -0.08 + 0.05 * Math.sin(0.3 * t));
    const tMap = [position[0], position[1], 1.5 + 0.02 * Math.sin(2 * Math.PI * 1.8 * t)];
    // session_from_cam = session_from_g * g_from_map * map_from_cam.
    const gFromMap = transpose(mapFromG);
    const rG = mul(gFromMap, rMap), tG = apply(gFromMap, sub(tMap, mapFromGT));
    frames.push({ t, trueMap: pose(rMap, tMap), session: pose(mul(sessionFromG, rG), apply(sessionFromG, tG)) });
  }
  let fixIndex = 0;
  for (let k = rate; k < frames.length; k += 5 * rate, ++fixIndex) {
    const f = frames[k];
    const rs = (0.3 * Math.PI) / 180;
    let r = mul(poseMatrix(f.trueMap), mul(rotZ(rs * normal()), rotX(rs * normal())));
    let t = add(poseT(f.trueMap), [0.03 * normal(), 0.03 * normal(), 0.03 * normal()]);
    const outlier = fixIndex === outlierFix;
    if (outlier) {
      t = add(t, [5 * Math.cos(2.0), 5 * Math.sin(2.0), 0.2]);
      r = mul(rotZ((15 * Math.PI) / 180), r);
    }
    fixes.push({ captureS: f.t, deliverS: f.t + 0.3 + 0.4 * Math.abs(Math.sin(k)), mapFromCam: pose(r, t), outlier });
  }
  return { frames, fixes };
}

// Where a point 7.5 m ahead of the true camera is drawn, minus where it is:
// true_map_from_cam * est_cam_from_map * point - point.
function anchorError(estimate, truth) {
  const rT = poseMatrix(truth), tT = poseT(truth);
  const forward = [rT[2], rT[5], 0];
  const fn = norm(forward);
  const point = add(tT, [7.5 * forward[0] / fn, 7.5 * forward[1] / fn, -0.5]);
  const rE = poseMatrix(estimate), tE = poseT(estimate);
  const inCam = apply(transpose(rE), sub(point, tE));
  return sub(add(apply(rT, inCam), tT), point);
}

test('fuses a walk, rejects the outlier, converges and never jumps', () => {
  const { frames, fixes } = simulate();
  const fusion = new sdk.PoseFusion({ sessionUpAxis: 'y' });
  const outcomes = [];
  const late = [];
  let maxJump = 0, previous = null, next = 0;
  for (const f of frames) {
    fusion.addTracking(f.t, f.session);
    while (next < fixes.length && fixes[next].deliverS <= f.t) {
      const fix = fixes[next++];
      outcomes.push(fusion.addFix(fix.captureS, fix.mapFromCam, 1.0));
    }
    if (!fusion.initialized) continue;
    const e = anchorError(fusion.mapFromCam(f.t), f.trueMap);
    if (previous) maxJump = Math.max(maxJump, norm(sub(e, previous)));
    previous = e;
    if (f.t >= 16) late.push(norm(e));
  }
  assert.equal(outcomes.length, fixes.length);
  assert.equal(outcomes[0], 'initialized');
  fixes.forEach((fix, i) => {
    if (i === 0) return;
    if (fix.outlier) assert.equal(outcomes[i], 'rejected', `the outlier fix ${i} was ${outcomes[i]}`);
    else assert.notEqual(outcomes[i], 'rejected', `good fix ${i} rejected`);
  });
  late.sort((a, b) => a - b);
  const median = late[Math.floor(late.length / 2)], max = late[late.length - 1];
  assert.ok(median < 0.05, `median anchor error ${median} m`);
  assert.ok(max < 0.12, `max anchor error ${max} m`);
  assert.ok(maxJump < 0.05, `max frame-to-frame jump ${maxJump} m`);
  const stats = fusion.stats();
  assert.equal(stats.numFixes, fixes.length);
  assert.equal(stats.numRejected, 1);
  assert.equal(stats.numTracking, frames.length);
  fusion.dispose();
});

test('a fix from a LocalizeResult, and the contract errors', () => {
  const fusion = new sdk.PoseFusion();
  assert.throws(() => fusion.mapFromSession(), (e) => e.status === 'FAILED_PRECONDITION');
  assert.throws(() => fusion.addFix(1, pose(rotZ(0), [0, 0, 0])), (e) => e.status === 'FAILED_PRECONDITION' && /no tracking yet/.test(e.message));
  const identity = pose(rotZ(0), [0, 0, 0]);
  fusion.addTracking(1, identity);
  assert.throws(() => fusion.addTracking(0.5, identity), (e) => e.status === 'INVALID_ARGUMENT' && /before/.test(e.message));
  assert.equal(fusion.addLocalizeResult(1, { success: false }), null);
  assert.equal(fusion.addLocalizeResult(1, { success: true, confidence: 0.9, mapFromCam: pose(rotZ(0), [3, 4, 5]) }), 'initialized');
  const p = fusion.mapFromCam(1);
  assert.ok(Math.abs(p.translation.x - 3) < 1e-9 && Math.abs(p.translation.y - 4) < 1e-9);
  assert.throws(() => fusion.mapFromCam(9), (e) => e.status === 'OUT_OF_RANGE');
  fusion.dispose();
  assert.throws(() => new sdk.PoseFusion({ windowSize: 0 }), /PoseFusionOptions::window_size = 0/);
  assert.throws(() => new sdk.PoseFusion({ sessionUpAxis: 'x' }), /sessionUpAxis/);
  assert.throws(() => new sdk.PoseFusion({ windowSizes: 3 }), /unknown option "windowSizes"/);
});
