// Compiled (not run) by `tsc --noEmit -p tests/tsconfig.json`: typical use of
// @armap/sdk against js/index.d.ts, so a declaration that drifts from the
// documented API fails the sdk/wasm/types test.
import {
  ArmapClient, ArmapError, EnuFrame, GuidanceSession, PoseFusion, RouteFollower, ecefFromWgs84, inverse, promptFor,
  roundedDistanceM, type FixOutcome, type GuidanceUpdate, type LocalizeResult, type MapInfo, type Rigid3, type Vec3,
} from '@armap/sdk';

async function main(image: Uint8Array): Promise<void> {
  const client = new ArmapClient('http://127.0.0.1:8080', { timeoutMs: 5000 });
  const maps: MapInfo[] = await client.listMaps();
  const frame = new EnuFrame(maps[0].origin);
  const result: LocalizeResult = await client.localizeImage(image, { width: 1280, height: 960, params: [1000, 1000, 639.5, 479.5] }, {
    prior: { position: { latDeg: 31.23, lonDeg: 121.47 }, accuracyM: 10 },
  });
  const fusion = new PoseFusion({ sessionUpAxis: 'y', windowSize: 12 });
  const sessionFromCam: Rigid3 = { qw: 1, qx: 0, qy: 0, qz: 0, translation: { x: 0, y: 0, z: 0 } };
  fusion.addTracking(0.0, sessionFromCam);
  const outcome: FixOutcome | null = fusion.addLocalizeResult(0.0, result);
  if (result.success && result.mapFromCam && outcome !== 'rejected') {
    const position: Vec3 = result.cameraPositionMap ?? [0, 0, 0];
    const camFromWorld: Rigid3 = inverse(result.mapFromCam);
    const heading: number = frame.geoPoseFromMapFromCam(fusion.mapFromCam(0.0)).headingDeg;
    console.log(position, camFromWorld.qw, heading, ecefFromWgs84({ latDeg: 0, lonDeg: 0 })[0]);
  }
  const route = await client.route({ start: { position: { latDeg: 31.23, lonDeg: 121.47 }, headingDeg: 90 }, poiName: 'Cafe' });
  const follower = new RouteFollower({ offrouteDistanceM: 6 });
  follower.setRoute(route.routes[0]);
  const u = follower.update({ positionMap: [0, 0, 0], timeS: 1 });
  console.log(u.promptEn, u.next?.type, promptFor(route.routes[0].maneuvers[0], 12).zh, roundedDistanceM(23));
  const session = new GuidanceSession(client, { poiName: 'Cafe', rerouteRetryS: 2 }, frame);
  const g: GuidanceUpdate = await session.start({ positionMap: [0, 0, 0], headingDeg: null, timeS: 0 });
  console.log(g.rerouted, g.routeVersion, session.route?.lengthM);
  try {
    await client.getMapInfo('x');
  } catch (e) {
    if (e instanceof ArmapError) console.log(e.status, e.code, e.httpStatus, e.detail);
  }
  fusion.dispose();
  follower.dispose();
  session.dispose();
  frame.dispose();
}
void main;
