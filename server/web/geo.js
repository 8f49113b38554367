// WGS84 <-> local ENU about an origin, through ECEF: the same conversion as
// core/geo.h (EnuFrame), so GeoJSON lon/lat lands where the server's map
// frame says.

const A_M = 6378137.0;                 // WGS84 semi-major axis
const F = 1 / 298.257223563;           // flattening
const E2 = F * (2 - F);                // first eccentricity squared
const DEG = Math.PI / 180;

function ecefFromWgs84(latDeg, lonDeg, altM) {
  const lat = latDeg * DEG;
  const lon = lonDeg * DEG;
  const sinLat = Math.sin(lat);
  const n = A_M / Math.sqrt(1 - E2 * sinLat * sinLat);
  return [
    (n + altM) * Math.cos(lat) * Math.cos(lon),
    (n + altM) * Math.cos(lat) * Math.sin(lon),
    (n * (1 - E2) + altM) * sinLat,
  ];
}

export class EnuFrame {
  constructor(latDeg, lonDeg, altM) {
    this.origin = { latDeg, lonDeg, altM };
    this.originEcef = ecefFromWgs84(latDeg, lonDeg, altM);
    const lat = latDeg * DEG;
    const lon = lonDeg * DEG;
    const [sl, cl, so, co] = [Math.sin(lat), Math.cos(lat), Math.sin(lon), Math.cos(lon)];
    // Rows: east, north, up in ECEF.
    this.enuFromEcef = [
      [-so, co, 0],
      [-sl * co, -sl * so, cl],
      [cl * co, cl * so, sl],
    ];
  }

  // Degrees (and ellipsoidal metres; default: the origin's height) -> [x east,
  // y north, z up] metres.
  enuFromWgs84(latDeg, lonDeg, altM = this.origin.altM) {
    const p = ecefFromWgs84(latDeg, lonDeg, altM);
    const d = [p[0] - this.originEcef[0], p[1] - this.originEcef[1], p[2] - this.originEcef[2]];
    return this.enuFromEcef.map((r) => r[0] * d[0] + r[1] * d[1] + r[2] * d[2]);
  }

  // [x, y, z] metres -> { latDeg, lonDeg, altM } (iterated latitude; exact to
  // well under a millimetre near the surface).
  wgs84FromEnu([x, y, z]) {
    const R = this.enuFromEcef;  // ECEF offset = R^T * enu
    const p = [0, 1, 2].map((j) => this.originEcef[j] + R[0][j] * x + R[1][j] * y + R[2][j] * z);
    const lon = Math.atan2(p[1], p[0]);
    const rho = Math.hypot(p[0], p[1]);
    let lat = Math.atan2(p[2], rho * (1 - E2));
    let alt = 0;
    for (let i = 0; i < 5; ++i) {
      const sinLat = Math.sin(lat);
      const n = A_M / Math.sqrt(1 - E2 * sinLat * sinLat);
      alt = rho / Math.cos(lat) - n;
      lat = Math.atan2(p[2], rho * (1 - (E2 * n) / (n + alt)));
    }
    return { latDeg: lat / DEG, lonDeg: lon / DEG, altM: alt };
  }
}
