// The built package under test: ARMAP_WASM_PKG (set by ctest) is the npm
// package folder <build>/sdk/wasm/pkg.
import { existsSync } from 'fs';
import { join } from 'path';
import { pathToFileURL } from 'url';

const pkg = process.env.ARMAP_WASM_PKG;
if (!pkg || !existsSync(join(pkg, 'index.mjs'))) {
  throw new Error(`ARMAP_WASM_PKG = ${JSON.stringify(pkg)} is not a built package folder; build the armap_wasm ` +
                  'target and run `ctest -R sdk/wasm` (or set ARMAP_WASM_PKG=<build>/sdk/wasm/pkg)');
}
export const sdk = await import(pathToFileURL(join(pkg, 'index.mjs')).href);

// Small pose helpers for the tests' own ground truth (independent of the
// SDK's compose/inverse): quaternions [w, x, y, z], rotation matrices as
// row-major 3x3 arrays.
export function quatFromMatrix(m) {
  const [r00, r01, r02, r10, r11, r12, r20, r21, r22] = m;
  const t = r00 + r11 + r22;
  let w, x, y, z;
  if (t > 0) {
    const s = Math.sqrt(t + 1) * 2;
    w = s / 4; x = (r21 - r12) / s; y = (r02 - r20) / s; z = (r10 - r01) / s;
  } else if (r00 > r11 && r00 > r22) {
    const s = Math.sqrt(1 + r00 - r11 - r22) * 2;
    w = (r21 - r12) / s; x = s / 4; y = (r01 + r10) / s; z = (r02 + r20) / s;
  } else if (r11 > r22) {
    const s = Math.sqrt(1 + r11 - r00 - r22) * 2;
    w = (r02 - r20) / s; x = (r01 + r10) / s; y = s / 4; z = (r12 + r21) / s;
  } else {
    const s = Math.sqrt(1 + r22 - r00 - r11) * 2;
    w = (r10 - r01) / s; x = (r02 + r20) / s; y = (r12 + r21) / s; z = s / 4;
  }
  return w < 0 ? [-w, -x, -y, -z] : [w, x, y, z];
}
export function matrixFromQuat([w, x, y, z]) {
  const n = Math.hypot(w, x, y, z);
  w /= n; x /= n; y /= n; z /= n;
  return [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
          2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)];
}
export const mul = (a, b) => {
  const out = new Array(9).fill(0);
  for (let i = 0; i < 3; ++i) for (let j = 0; j < 3; ++j) for (let k = 0; k < 3; ++k) out[3 * i + j] += a[3 * i + k] * b[3 * k + j];
  return out;
};
export const apply = (m, v) => [0, 1, 2].map((i) => m[3 * i] * v[0] + m[3 * i + 1] * v[1] + m[3 * i + 2] * v[2]);
export const transpose = (m) => [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];
export const rotZ = (a) => [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1];
export const rotX = (a) => [1, 0, 0, 0, Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a)];
export const add = (a, b) => a.map((v, i) => v + b[i]);
export const sub = (a, b) => a.map((v, i) => v - b[i]);
export const norm = (a) => Math.hypot(...a);
// An API pose {qw, qx, qy, qz, translation} from a matrix and a translation.
export function pose(m, t) {
  const [qw, qx, qy, qz] = quatFromMatrix(m);
  return { qw, qx, qy, qz, translation: { x: t[0], y: t[1], z: t[2] } };
}
export const poseMatrix = (p) => matrixFromQuat([p.qw, p.qx, p.qy, p.qz]);
export const poseT = (p) => [p.translation.x, p.translation.y, p.translation.z];

// A seeded normal generator (xorshift + Box-Muller): the same walk every run.
export function gaussian(seed) {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
