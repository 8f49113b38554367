// @armap/sdk: the armap client for web AR pages and node, over the HTTP/JSON
// API of `armap serve --http-port P`. The client core (request building and
// checks, response parsing, WGS84/ENU and pose maths, pose fusion, route
// following and prompts) is the C++ SDK core compiled to WebAssembly
// (armap_core.mjs); this module adds fetch, errors and re-routing.
//
// Frames and units as in the API: the map frame is local ENU metres about
// the map's origin; poses are target_from_source {qw, qx, qy, qz,
// translation: {x, y, z}}; positions [x, y, z]; WGS84 {latDeg, lonDeg, altM};
// headings compass degrees clockwise from north; times seconds.
import createArmapCore from './armap_core.mjs';

const core = await createArmapCore();

/** An error of the API or of the SDK's own checks. */
export class ArmapError extends Error {
  /**
   * @param {string} status  gRPC status name ("INVALID_ARGUMENT", "NOT_FOUND", "UNAVAILABLE", ...)
   * @param {string} message
   * @param {{code?: number, httpStatus?: number}} [details]
   */
  constructor(status, message, details = {}) {
    super(`${status}: ${message}`);
    this.name = 'ArmapError';
    this.status = status;
    this.detail = message;
    this.code = details.code ?? STATUS_CODES[status] ?? 2;
    this.httpStatus = details.httpStatus ?? 0;
  }
}

const STATUS_CODES = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

// A core call's {ok, value} or {ok: false, code, message} as a value or a throw.
function unwrap(result) {
  if (!result.ok) throw new ArmapError(result.code, result.message);
  return result.value;
}
const unwrapJson = (result) => JSON.parse(unwrap(result));

function checkFinite(name, value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArmapError('INVALID_ARGUMENT', `${name} = ${value}; must be a finite number`);
  }
}

function asBytes(name, data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new ArmapError('INVALID_ARGUMENT', `${name}: must be a Uint8Array, ArrayBuffer or typed array`);
}

// ---------------------------------------------------------------- client

/** The HTTP/JSON API client. */
export class ArmapClient {
  /**
   * @param {string} baseUrl  e.g. "http://127.0.0.1:8080" (the `http on ...` line of armap serve)
   * @param {{fetch?: typeof fetch, timeoutMs?: number, headers?: Record<string, string>}} [options]
   */
  constructor(baseUrl, options = {}) {
    if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/]+/.test(baseUrl)) {
      throw new ArmapError('INVALID_ARGUMENT', `ArmapClient: baseUrl = ${JSON.stringify(baseUrl)}; must be http(s)://HOST[:PORT]`);
    }
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') {
      throw new ArmapError('INVALID_ARGUMENT', 'ArmapClient: no fetch; pass options.fetch');
    }
    // Called unbound: a browser's fetch throws "Illegal invocation" when
    // called as a method of another object.
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 10000;
    if (!(Number.isInteger(this.timeoutMs) && this.timeoutMs > 0)) {
      throw new ArmapError('INVALID_ARGUMENT', `ArmapClient: timeoutMs = ${options.timeoutMs}; must be an integer > 0`);
    }
    this.headers = { ...(options.headers ?? {}) };
  }

  /** @returns {Promise<object[]>} MapInfo of every served map. */
  async listMaps() {
    return JSON.parse(unwrap(core.mapListJson(await this.#call('GET', '/v1/maps')))).maps;
  }

  /** @returns {Promise<object>} MapInfo. */
  async getMapInfo(mapId) {
    if (typeof mapId !== 'string' || mapId === '') throw new ArmapError('INVALID_ARGUMENT', 'getMapInfo: mapId is empty');
    return unwrapJson(core.mapInfoJson(await this.#call('GET', `/v1/maps/${encodeURIComponent(mapId)}`)));
  }

  /**
   * A file of a map package (e.g. "roads/network.geojson") as bytes.
   * @returns {Promise<Uint8Array>}
   */
  async getMapFile(mapId, path, options = {}) {
    const encoded = String(path).split('/').map(encodeURIComponent).join('/');
    const response = await this.#send('GET', `/v1/maps/${encodeURIComponent(mapId)}/files/${encoded}`, undefined, options.timeoutMs);
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * Localizes an encoded JPEG or PNG.
   * @param {Uint8Array|ArrayBuffer} image
   * @param {{model?: string, width: number, height: number, params: number[]}} camera
   * @param {{mapId?: string, prior?: object, requestId?: string, timeoutMs?: number}} [options]
   */
  async localizeImage(image, camera, options = {}) {
    const spec = { mapId: options.mapId ?? '', camera, prior: options.prior, requestId: options.requestId };
    const body = unwrap(core.localizeRequestJson(JSON.stringify(spec), asBytes('image', image), ''));
    return this.#localize(body, options);
  }

  /**
   * Localizes features extracted on the phone with the map's extractor.
   * @param {{keypoints: ArrayLike<number>, descriptors: Uint8Array, descriptorDim: number}} features
   */
  async localizeFeatures(features, camera, options = {}) {
    const spec = {
      mapId: options.mapId ?? '', camera, prior: options.prior, requestId: options.requestId,
      features: { keypoints: Array.from(features?.keypoints ?? []), descriptorDim: features?.descriptorDim },
    };
    const body = unwrap(core.localizeRequestJson(JSON.stringify(spec), new Uint8Array(0),
                                                 asBytes('features.descriptors', features?.descriptors ?? new Uint8Array(0))));
    return this.#localize(body, options);
  }

  /**
   * Plans a walking route.
   * @param {{start: {position: object, headingDeg?: number}, poiName?: string, point?: object, mapId?: string,
   *          options?: object, requestId?: string, timeoutMs?: number}} request
   */
  async route(request) {
    const { timeoutMs, ...spec } = request ?? {};
    const body = unwrap(core.routeRequestJson(JSON.stringify(spec)));
    return unwrapJson(core.routeResultJson(await this.#call('POST', '/v1/route', body, timeoutMs)));
  }

  async #localize(body, options) {
    const started = (globalThis.performance ?? Date).now();
    const result = unwrapJson(core.localizeResultJson(await this.#call('POST', '/v1/localize', body, options.timeoutMs)));
    result.clientMs = (globalThis.performance ?? Date).now() - started;
    return result;
  }

  async #call(method, path, body, timeoutMs) {
    const response = await this.#send(method, path, body, timeoutMs);
    return response.text();
  }

  // One request with a deadline: the server is told it (X-Armap-Timeout-Ms)
  // and the fetch is aborted shortly after it.
  async #send(method, path, body, timeoutMs) {
    const deadline = timeoutMs ?? this.timeoutMs;
    if (!(Number.isInteger(deadline) && deadline > 0)) {
      throw new ArmapError('INVALID_ARGUMENT', `timeoutMs = ${timeoutMs}; must be an integer > 0`);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadline + 200);
    const headers = { ...this.headers, 'X-Armap-Timeout-Ms': String(deadline) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      const fetchFn = this.fetch;
      response = await fetchFn(this.baseUrl + path, { method, headers, body, signal: controller.signal });
    } catch (e) {
      clearTimeout(timer);
      if (controller.signal.aborted) {
        throw new ArmapError('DEADLINE_EXCEEDED', `${method} ${path}: no answer within ${deadline} ms`);
      }
      throw new ArmapError('UNAVAILABLE', `${method} ${this.baseUrl}${path}: ${e?.cause?.message ?? e?.message ?? e}`);
    }
    clearTimeout(timer);
    if (!response.ok) throw await errorOf(response, method, path);
    return response;
  }
}

// {"code": int, "status": "NAME", "message": "..."} or, from a proxy, anything.
async function errorOf(response, method, path) {
  let text = '';
  try {
    text = await response.text();
  } catch (e) {
    text = '';
  }
  try {
    const j = JSON.parse(text);
    if (j && typeof j.status === 'string') {
      return new ArmapError(j.status, j.message ?? '', { code: j.code, httpStatus: response.status });
    }
  } catch (e) {
    // not the API's error body
  }
  const byHttp = { 400: 'INVALID_ARGUMENT', 404: 'NOT_FOUND', 408: 'DEADLINE_EXCEEDED', 429: 'RESOURCE_EXHAUSTED',
                   501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
  return new ArmapError(byHttp[response.status] ?? 'UNKNOWN',
                        `${method} ${path}: HTTP ${response.status} ${text.slice(0, 200)}`, { httpStatus: response.status });
}

// ---------------------------------------------------------------- geo

/** WGS84 {latDeg, lonDeg, altM} to ECEF [x, y, z] metres. */
export function ecefFromWgs84(point) {
  return unwrap(core.ecefFromWgs84(point));
}
/** ECEF [x, y, z] to WGS84 {latDeg, lonDeg, altM}. */
export function wgs84FromEcef(ecef) {
  return unwrap(core.wgs84FromEcef(ecef));
}
/** a_from_c = a_from_b * b_from_c. */
export function compose(aFromB, bFromC) {
  return core.compose(aFromB, bFromC);
}
/** b_from_a from a_from_b (e.g. mapFromCam from camFromWorld). */
export function inverse(aFromB) {
  return core.inverse(aFromB);
}

/** A map frame: ENU metres about an origin (MapInfo.origin). */
export class EnuFrame {
  constructor(origin) {
    this._core = new core.EnuFrameCore(origin);
    const error = this._core.error();
    if (error) {
      this._core.delete();
      throw new ArmapError('INVALID_ARGUMENT', error);
    }
  }
  get origin() { return this._core.origin(); }
  /** @returns {number[]} [x, y, z] in the map frame */
  enuFromWgs84(point) { return this._core.enuFromWgs84(point); }
  wgs84FromEnu(enu) { return this._core.wgs84FromEnu(enu); }
  /** WGS84 position, heading, pitch and roll of an OpenCV camera posed mapFromCam. */
  geoPoseFromMapFromCam(mapFromCam) { return this._core.geoPoseFromMapFromCam(mapFromCam); }
  dispose() { this._core?.delete(); this._core = null; }
}

// ---------------------------------------------------------------- fusion

/**
 * Keeps AR content steady between positioning fixes: fuses the tracking's
 * sessionFromCam (60 Hz, drifting) with fixes' mapFromCam (every few
 * seconds, noisy, sometimes wrong) into mapFromSession (see the C++ SDK's
 * armap/sdk/pose_fusion.h). Call dispose() when done.
 */
export class PoseFusion {
  /** @param {object} [options] PoseFusionOptions fields in camelCase, e.g. {sessionUpAxis: 'y', windowSize: 12} */
  constructor(options = {}) {
    this._core = new core.PoseFusionCore(JSON.stringify(options));
    const error = this._core.error();
    if (error) {
      this._core.delete();
      throw new ArmapError('INVALID_ARGUMENT', error);
    }
  }
  addTracking(timestampS, sessionFromCam) { unwrap(this._core.addTracking(timestampS, sessionFromCam)); }
  /** @returns {'initialized'|'accepted'|'rejected'|'reset'} */
  addFix(timestampS, mapFromCam, confidence = 1) { return unwrap(this._core.addFix(timestampS, mapFromCam, confidence)); }
  addFixWithSigma(timestampS, mapFromCam, positionSigmaM, yawSigmaDeg) {
    return unwrap(this._core.addFixWithSigma(timestampS, mapFromCam, positionSigmaM, yawSigmaDeg));
  }
  /**
   * A LocalizeResult (ArmapClient.localize*) as a fix taken at captureTimeS;
   * null when it did not localize.
   */
  addLocalizeResult(captureTimeS, result) {
    if (!result?.success) return null;
    return this.addFix(captureTimeS, result.mapFromCam, result.confidence);
  }
  get initialized() { return this._core.initialized(); }
  mapFromSession() { return unwrap(this._core.mapFromSession()); }
  targetMapFromSession() { return unwrap(this._core.targetMapFromSession()); }
  /** The pose to render with at timestampS. */
  mapFromCam(timestampS) { return unwrap(this._core.mapFromCam(timestampS)); }
  stats() { return this._core.stats(); }
  reset() { this._core.reset(); }
  dispose() { this._core?.delete(); this._core = null; }
}

// ---------------------------------------------------------------- routes

/** The spoken prompt for a maneuver distanceM ahead: {zh: "在 30 米后左转", en: "In 30 m, turn left"}. */
export function promptFor(maneuver, distanceM) {
  return unwrap(core.promptFor(JSON.stringify(maneuver), distanceM));
}
/** Distances as spoken: metres under 20 m, then steps of 5 m (10 m over 200 m). */
export function roundedDistanceM(distanceM) {
  checkFinite('distanceM', distanceM);
  return core.roundedDistanceM(distanceM);
}

/**
 * Follows one route (a route of ArmapClient.route()): progress, off-route
 * with hysteresis, the next maneuver and its prompt (the C++ SDK's
 * navigation/route_follower.h). Call dispose() when done.
 */
export class RouteFollower {
  /** @param {object} [options] RouteFollowOptions in camelCase, e.g. {offrouteDistanceM: 6} */
  constructor(options = {}) {
    this._core = new core.RouteFollowerCore(JSON.stringify(options));
    const error = this._core.error();
    if (error) {
      this._core.delete();
      throw new ArmapError('INVALID_ARGUMENT', error);
    }
  }
  setRoute(route) { unwrap(this._core.setRoute(JSON.stringify(route))); this.route = route; }
  /** @param {{positionMap: number[], headingDeg?: number, timeS: number}} pose */
  update(pose) { return unwrap(this._core.update(pose)); }
  /** After setRoute() with a route planned from pose (already given to update()). */
  rejoin(pose) { return unwrap(this._core.rejoin(pose)); }
  get progressM() { return this._core.progressM(); }
  get lengthM() { return this._core.lengthM(); }
  get offRoute() { return this._core.offRoute(); }
  get arrived() { return this._core.arrived(); }
  dispose() { this._core?.delete(); this._core = null; }
}

/**
 * Turn-by-turn guidance to a destination: a RouteFollower that re-plans
 * through the client (POST /v1/route from where the walker is) when it
 * reports off-route. Poses are in the map frame (e.g. PoseFusion's camera
 * position); the frame converts them to WGS84 for the re-route request.
 */
export class GuidanceSession {
  /**
   * @param {ArmapClient} client
   * @param {{mapId?: string, poiName?: string, point?: object, routeOptions?: object,
   *          followOptions?: object, reroute?: boolean, rerouteRetryS?: number}} options
   * @param {EnuFrame} frame  the map's frame (new EnuFrame(mapInfo.origin))
   */
  constructor(client, options, frame) {
    if (!(client instanceof ArmapClient)) throw new ArmapError('INVALID_ARGUMENT', 'GuidanceSession: client must be an ArmapClient');
    if (!(frame instanceof EnuFrame)) throw new ArmapError('INVALID_ARGUMENT', 'GuidanceSession: frame must be an EnuFrame');
    const hasPoi = typeof options?.poiName === 'string' && options.poiName !== '';
    if (hasPoi === Boolean(options?.point)) {
      throw new ArmapError('INVALID_ARGUMENT', 'GuidanceSession: set exactly one of poiName and point');
    }
    this.client = client;
    this.frame = frame;
    this.options = { reroute: true, rerouteRetryS: 2, ...options };
    this.follower = new RouteFollower(options.followOptions ?? {});
    this.route = null;
    this.routeVersion = 0;
    this.destinationPoi = null;
    this._lastAttemptS = -Infinity;
  }

  /** Plans from the first pose and starts following. @returns the first update */
  async start(pose) {
    const response = await this.#plan(pose);
    this.#setRoute(response);
    return { ...this.follower.update(pose), rerouted: false, rerouteError: '', routeVersion: this.routeVersion };
  }

  /**
   * Feeds one pose; re-plans (awaiting the server) when the walker is off
   * the route, at most once per rerouteRetryS while re-planning fails.
   */
  async update(pose) {
    if (!this.route) throw new ArmapError('FAILED_PRECONDITION', 'GuidanceSession: call start(pose) first');
    let u = { ...this.follower.update(pose), rerouted: false, rerouteError: '' };
    if (this.follower.offRoute && this.options.reroute && !this.follower.arrived &&
        pose.timeS - this._lastAttemptS >= this.options.rerouteRetryS) {
      this._lastAttemptS = pose.timeS;
      try {
        this.#setRoute(await this.#plan(pose));
        ++this.routeVersion;
        u = { ...u, ...this.follower.rejoin(pose), rerouted: true };
      } catch (e) {
        u.rerouteError = e instanceof ArmapError ? e.message : String(e);
      }
    }
    u.routeVersion = this.routeVersion;
    return u;
  }

  dispose() { this.follower.dispose(); }

  async #plan(pose) {
    const { mapId, poiName, point, routeOptions } = this.options;
    const position = this.frame.wgs84FromEnu(pose.positionMap);
    const start = { position };
    if (pose.headingDeg !== undefined && pose.headingDeg !== null) start.headingDeg = pose.headingDeg;
    return this.client.route({ mapId, start, poiName: poiName || undefined, point, options: routeOptions });
  }

  #setRoute(response) {
    if (!response.routes?.length) throw new ArmapError('NOT_FOUND', 'GuidanceSession: the server returned no route');
    this.follower.setRoute(response.routes[0]);
    this.route = response.routes[0];
    this.destinationPoi = response.destinationPoi ?? this.destinationPoi;
  }
}

/** The SDK's version. */
export const version = '0.1.0';
