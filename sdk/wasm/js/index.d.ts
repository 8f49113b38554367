// TypeScript declarations of @armap/sdk (js/index.mjs). Frames and units as
// in the HTTP/JSON API: the map frame is local ENU metres (x east, y north,
// z up) about the map's origin; transforms are target_from_source; angles in
// degrees; headings compass degrees clockwise from north; times seconds.

/** gRPC status names used by the API and the SDK's own checks. */
export type StatusName =
  | 'OK' | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND' | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'ABORTED' | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS' | 'UNAUTHENTICATED';

export class ArmapError extends Error {
  constructor(status: StatusName | string, message: string, details?: { code?: number; httpStatus?: number });
  readonly status: StatusName | string;
  /** The message without the status prefix. */
  readonly detail: string;
  /** The numeric gRPC code. */
  readonly code: number;
  /** The HTTP status when the error came from the server, else 0. */
  readonly httpStatus: number;
}

/** [x, y, z] metres. */
export type Vec3 = [number, number, number];
export interface Vector3 { x: number; y: number; z: number; }
/** A rigid transform target_from_source: unit quaternion and translation (metres). */
export interface Rigid3 { qw: number; qx: number; qy: number; qz: number; translation: Vector3; }
export interface GeoPoint { latDeg: number; lonDeg: number; altM?: number; }
export interface GeoPose { position: Required<GeoPoint>; headingDeg: number; pitchDeg: number; rollDeg: number; }

/** "PINHOLE" params fx fy cx cy; "OPENCV" fx fy cx cy k1 k2 p1 p2. */
export interface Camera { model?: 'PINHOLE' | 'OPENCV'; width: number; height: number; params: number[]; }
export interface Prior {
  position?: GeoPoint;
  /** Horizontal 1-sigma of position; 0 means 10 m. */
  accuracyM?: number;
  /** Accelerometer "down" in the camera frame (any length). */
  gravityInCam?: Vector3;
  camFromWorld?: Rigid3;
  /** 0 means 2 m. */
  camFromWorldAccuracyM?: number;
}
export interface LocalizeOptions { mapId?: string; prior?: Prior; requestId?: string; timeoutMs?: number; }
export interface Features {
  /** n x 4: x, y (pixels), scale sigma (pixels), orientation (radians). */
  keypoints: ArrayLike<number>;
  /** n x descriptorDim uint8, row-major. */
  descriptors: Uint8Array;
  descriptorDim: number;
}
export type FailureReason =
  | 'NONE' | 'NO_CANDIDATES' | 'TOO_FEW_FEATURES' | 'TOO_FEW_MATCHES' | 'TOO_FEW_INLIERS' | 'DEGENERATE_GEOMETRY'
  | 'LOW_CONFIDENCE';
/** success false is not an error: the query was valid but not localized. */
export interface LocalizeResult {
  success: boolean;
  failureReason: FailureReason;
  failureMessage: string;
  /** Set when success. */
  camFromWorld: Rigid3 | null;
  /** The inverse of camFromWorld: the camera's pose in the map. */
  mapFromCam: Rigid3 | null;
  cameraPositionMap: Vec3 | null;
  geoPose: GeoPose;
  confidence: number;
  numFeatures: number;
  numRetrievedViews: number;
  numMatches: number;
  numInliers: number;
  reprojectionRmsPx: number;
  stages: { stage: string; ms: number }[];
  serverMs: number;
  /** Round trip measured by the client. */
  clientMs: number;
  mapId: string;
  mapVersion: number;
  requestId: string;
}
export interface ExtractorInfo { type: string; maxFeatures: number; contrastThreshold: number; edgeThreshold: number; octaveLayers: number; }
export interface MapInfo {
  mapId: string;
  mapVersion: number;
  createdUtc: string;
  origin: Required<GeoPoint>;
  bboxMinM: Vec3;
  bboxMaxM: Vec3;
  numViews: number;
  numLandmarks: number;
  extractor: ExtractorInfo;
}

export type ManeuverType =
  | 'DEPART' | 'STRAIGHT' | 'TURN_LEFT' | 'TURN_RIGHT' | 'SLIGHT_LEFT' | 'SLIGHT_RIGHT' | 'U_TURN' | 'ARRIVE';
export interface Maneuver {
  type: ManeuverType;
  /** Arc length along the route, metres from the start. */
  atM: number;
  distanceM?: number;
  /** + left, - right. */
  turnDeg: number;
  ontoCrossing: boolean;
  headingDeg: number;
  textZh: string;
  textEn: string;
  promptZh?: string;
  promptEn?: string;
}
export interface NavRoute {
  lengthM: number;
  etaS: number;
  crossings: number;
  cost: number;
  /** [lat, lon, alt] per point. */
  polylineWgs84: Vec3[];
  polylineMap: Vec3[];
  arPolylineMap: Vec3[];
  maneuvers: Maneuver[];
  edgeIds: number[];
  startSnapDistanceM: number;
  destinationSnapDistanceM: number;
  routeVersion: number;
}
export interface Poi {
  id: number; name: string; nameEn: string; category: string; confidence: number;
  position: Required<GeoPoint>; positionMap: Vec3;
}
export interface RouteResult {
  mapId: string;
  requestId: string;
  /** The best route first, then alternatives. */
  routes: NavRoute[];
  destinationPoi: Poi | null;
  walkSpeedMps: number;
  serverMs: number;
}
export interface RouteOptions { crossingPenaltyM?: number; avoidEdgeIds?: number[]; numAlternatives?: number; }
export interface RouteRequest {
  mapId?: string;
  requestId?: string;
  start: { position: GeoPoint; headingDeg?: number };
  /** Exactly one of poiName and point. */
  poiName?: string;
  point?: GeoPoint;
  options?: RouteOptions;
  timeoutMs?: number;
}

export interface ClientOptions {
  /** Defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Per-call deadline (sent as X-Armap-Timeout-Ms); default 10000. */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export class ArmapClient {
  constructor(baseUrl: string, options?: ClientOptions);
  readonly baseUrl: string;
  listMaps(): Promise<MapInfo[]>;
  getMapInfo(mapId: string): Promise<MapInfo>;
  /** A file of the map package, e.g. "roads/network.geojson". */
  getMapFile(mapId: string, path: string, options?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** An encoded JPEG or PNG. */
  localizeImage(image: Uint8Array | ArrayBuffer, camera: Camera, options?: LocalizeOptions): Promise<LocalizeResult>;
  localizeFeatures(features: Features, camera: Camera, options?: LocalizeOptions): Promise<LocalizeResult>;
  route(request: RouteRequest): Promise<RouteResult>;
}

export function ecefFromWgs84(point: GeoPoint): Vec3;
export function wgs84FromEcef(ecef: Vec3): Required<GeoPoint>;
/** a_from_c = a_from_b * b_from_c. */
export function compose(aFromB: Rigid3, bFromC: Rigid3): Rigid3;
export function inverse(aFromB: Rigid3): Rigid3;

export class EnuFrame {
  constructor(origin: GeoPoint);
  readonly origin: Required<GeoPoint>;
  enuFromWgs84(point: GeoPoint): Vec3;
  wgs84FromEnu(enu: Vec3): Required<GeoPoint>;
  /** Position, heading, pitch and roll of an OpenCV camera (x right, y down, z forward). */
  geoPoseFromMapFromCam(mapFromCam: Rigid3): GeoPose;
  dispose(): void;
}

export interface PoseFusionOptions {
  /** The session frame's up axis: "y" (ARKit, ARCore, WebXR) or "z". */
  sessionUpAxis?: 'y' | 'z';
  fixPositionSigmaM?: number;
  fixYawSigmaDeg?: number;
  minConfidence?: number;
  driftFraction?: number;
  driftNonlinearity?: number;
  driftMPerS?: number;
  yawDriftDegPerM?: number;
  yawDriftDegPerS?: number;
  windowSize?: number;
  windowS?: number;
  gateSigma?: number;
  gateFloorM?: number;
  gateFloorDeg?: number;
  huberK?: number;
  maxDriftExtrapolationM?: number;
  blendTimeS?: number;
  maxCorrectionSpeedMps?: number;
  maxCorrectionYawRateDps?: number;
  trackingHistoryS?: number;
  maxExtrapolationS?: number;
}
export type FixOutcome = 'initialized' | 'accepted' | 'rejected' | 'reset';
export interface PoseFusionStats {
  numTracking: number; numFixes: number; numAccepted: number; numRejected: number; numResets: number;
  windowInliers: number; pendingCorrectionM: number; pendingCorrectionDeg: number;
  positionSigmaM: number; yawSigmaDeg: number; driftRate: number;
}

export class PoseFusion {
  constructor(options?: PoseFusionOptions);
  addTracking(timestampS: number, sessionFromCam: Rigid3): void;
  addFix(timestampS: number, mapFromCam: Rigid3, confidence?: number): FixOutcome;
  addFixWithSigma(timestampS: number, mapFromCam: Rigid3, positionSigmaM: number, yawSigmaDeg: number): FixOutcome;
  /** A LocalizeResult as a fix taken at captureTimeS; null when it did not localize. */
  addLocalizeResult(captureTimeS: number, result: LocalizeResult): FixOutcome | null;
  readonly initialized: boolean;
  mapFromSession(): Rigid3;
  targetMapFromSession(): Rigid3;
  /** The pose to render with. */
  mapFromCam(timestampS: number): Rigid3;
  stats(): PoseFusionStats;
  reset(): void;
  dispose(): void;
}

export function promptFor(maneuver: Maneuver, distanceM: number): { zh: string; en: string };
export function roundedDistanceM(distanceM: number): number;

export interface RouteFollowOptions {
  offrouteDistanceM?: number;
  offrouteHeadingDistanceM?: number;
  offrouteHeadingDeg?: number;
  offrouteMinPoses?: number;
  offrouteMinDurationS?: number;
  onrouteDistanceM?: number;
  onrouteMinPoses?: number;
  trackBackM?: number;
  trackAheadM?: number;
  headingWindowM?: number;
  arrivalRadiusM?: number;
}
export interface NavPose { positionMap: Vec3; headingDeg?: number | null; timeS: number; }
export interface FollowUpdate {
  progressM: number;
  remainingM: number;
  distanceToRouteM: number;
  headingErrorDeg: number;
  offRoute: boolean;
  offRouteEntered: boolean;
  arrived: boolean;
  next: Maneuver | null;
  distanceToNextM: number;
  promptZh: string;
  promptEn: string;
}

export class RouteFollower {
  constructor(options?: RouteFollowOptions);
  route?: NavRoute;
  setRoute(route: Pick<NavRoute, 'polylineMap' | 'maneuvers'>): void;
  update(pose: NavPose): FollowUpdate;
  rejoin(pose: NavPose): FollowUpdate;
  readonly progressM: number;
  readonly lengthM: number;
  readonly offRoute: boolean;
  readonly arrived: boolean;
  dispose(): void;
}

export interface GuidanceOptions {
  mapId?: string;
  /** Exactly one of poiName and point. */
  poiName?: string;
  point?: GeoPoint;
  routeOptions?: RouteOptions;
  followOptions?: RouteFollowOptions;
  /** Re-plan when off-route (default true). */
  reroute?: boolean;
  /** Seconds of pose time between re-route attempts while they fail (default 2). */
  rerouteRetryS?: number;
}
export interface GuidanceUpdate extends FollowUpdate {
  rerouted: boolean;
  rerouteError: string;
  routeVersion: number;
}

export class GuidanceSession {
  constructor(client: ArmapClient, options: GuidanceOptions, frame: EnuFrame);
  readonly route: NavRoute | null;
  readonly routeVersion: number;
  readonly destinationPoi: Poi | null;
  readonly follower: RouteFollower;
  start(pose: NavPose): Promise<GuidanceUpdate>;
  update(pose: NavPose): Promise<GuidanceUpdate>;
  dispose(): void;
}

export const version: string;
