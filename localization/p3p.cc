#include "localization/p3p.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

namespace armap::loc {
namespace {

// det(A + g B) = det A + g tr(adj(A) B) + g^2 tr(adj(B) A) + g^3 det B.
Eigen::Matrix3d Adjugate(const Eigen::Matrix3d& m) {
  Eigen::Matrix3d adj;
  adj(0, 0) = m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1);
  adj(0, 1) = m(0, 2) * m(2, 1) - m(0, 1) * m(2, 2);
  adj(0, 2) = m(0, 1) * m(1, 2) - m(0, 2) * m(1, 1);
  adj(1, 0) = m(1, 2) * m(2, 0) - m(1, 0) * m(2, 2);
  adj(1, 1) = m(0, 0) * m(2, 2) - m(0, 2) * m(2, 0);
  adj(1, 2) = m(0, 2) * m(1, 0) - m(0, 0) * m(1, 2);
  adj(2, 0) = m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0);
  adj(2, 1) = m(0, 1) * m(2, 0) - m(0, 0) * m(2, 1);
  adj(2, 2) = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0);
  return adj;
}

// Real roots of c3 x^3 + c2 x^2 + c1 x + c0 (c3 != 0), polished by Newton.
int CubicRoots(double c3, double c2, double c1, double c0, double roots[3]) {
  const double a = c2 / c3, b = c1 / c3, c = c0 / c3;
  // x = y - a/3: y^3 + p y + q = 0.
  const double p = b - a * a / 3.0;
  const double q = 2.0 * a * a * a / 27.0 - a * b / 3.0 + c;
  const double shift = -a / 3.0;
  int n = 0;
  const double disc = q * q / 4.0 + p * p * p / 27.0;
  if (disc > 0) {
    const double s = std::sqrt(disc);
    roots[n++] = std::cbrt(-q / 2.0 + s) + std::cbrt(-q / 2.0 - s) + shift;
  } else if (p == 0) {
    roots[n++] = shift;
  } else {  // three real roots (p < 0)
    const double m = 2.0 * std::sqrt(-p / 3.0);
    const double arg = std::clamp(3.0 * q / (p * m), -1.0, 1.0);
    const double theta = std::acos(arg) / 3.0;
    for (int k = 0; k < 3; ++k) roots[n++] = m * std::cos(theta - 2.0 * M_PI * k / 3.0) + shift;
  }
  for (int k = 0; k < n; ++k) {
    double x = roots[k];
    for (int it = 0; it < 2; ++it) {
      const double f = ((x + a) * x + b) * x + c;
      const double df = (3.0 * x + 2.0 * a) * x + b;
      if (df == 0) break;
      x -= f / df;
    }
    if (std::isfinite(x)) roots[k] = x;
  }
  return n;
}

}  // namespace

int SolveP3P(const Eigen::Vector3d bearings[3], const Eigen::Vector3d points[3], std::vector<Rigid3d>* out) {
  const Eigen::Vector3d y[3] = {bearings[0].normalized(), bearings[1].normalized(), bearings[2].normalized()};
  const double b12 = -2.0 * y[0].dot(y[1]), b13 = -2.0 * y[0].dot(y[2]), b23 = -2.0 * y[1].dot(y[2]);
  const Eigen::Vector3d d12 = points[0] - points[1], d13 = points[0] - points[2], d23 = points[1] - points[2];
  const double a12 = d12.squaredNorm(), a13 = d13.squaredNorm(), a23 = d23.squaredNorm();
  if (!(a12 > 0 && a13 > 0 && a23 > 0)) return 0;

  // |l_i y_i - l_j y_j|^2 = a_ij is L^T M_ij L = a_ij; D1, D2 are the
  // homogeneous combinations (L^T D L = 0 at every solution).
  Eigen::Matrix3d m12 = Eigen::Matrix3d::Zero(), m13 = Eigen::Matrix3d::Zero(), m23 = Eigen::Matrix3d::Zero();
  m12 << 1, b12 / 2, 0, b12 / 2, 1, 0, 0, 0, 0;
  m13 << 1, 0, b13 / 2, 0, 0, 0, b13 / 2, 0, 1;
  m23 << 0, 0, 0, 0, 1, b23 / 2, 0, b23 / 2, 1;
  const Eigen::Matrix3d d1 = a23 * m12 - a12 * m23;
  const Eigen::Matrix3d d2 = a23 * m13 - a13 * m23;

  // A singular combination D0 = D1 + g D2: its quadratic form is the
  // product of two linear ones when D0 is indefinite. Of the cubic's real
  // roots the most clearly indefinite one is used (every one gives the same
  // solutions in exact arithmetic).
  const double c3 = d2.determinant(), c0 = d1.determinant();
  const double c1 = (Adjugate(d1) * d2).trace(), c2 = (Adjugate(d2) * d1).trace();
  Eigen::Matrix3d candidates[4];
  double candidate_g[4];  // D0 = D1 + g D2; infinity: D0 = D2
  int num_candidates = 0;
  const double scale = std::max({std::abs(c0), std::abs(c1), std::abs(c2), std::abs(c3)});
  if (!(scale > 0) || !std::isfinite(scale)) return 0;
  if (std::abs(c3) > 1e-12 * scale) {
    double roots[3];
    const int n = CubicRoots(c3, c2, c1, c0, roots);
    for (int k = 0; k < n; ++k) {
      candidate_g[num_candidates] = roots[k];
      candidates[num_candidates++] = d1 + roots[k] * d2;
    }
  } else {
    candidate_g[num_candidates] = std::numeric_limits<double>::infinity();
    candidates[num_candidates++] = d2;  // det D2 = 0: D2 itself (g = infinity)
  }
  Eigen::Matrix3d d0;
  double g = 0;
  Eigen::Vector3d eig_values;
  Eigen::Matrix3d eig_vectors;
  double best_measure = -std::numeric_limits<double>::infinity();
  for (int k = 0; k < num_candidates; ++k) {
    Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig;
    eig.computeDirect(candidates[k]);
    const Eigen::Vector3d v = eig.eigenvalues();  // ascending
    // The near-zero eigenvalue is the middle one when D0 is indefinite.
    const double measure = -v(0) * v(2) / std::max(v(0) * v(0), v(2) * v(2)) - std::abs(v(1)) / (std::abs(v(0)) + std::abs(v(2)));
    if (measure > best_measure) {
      best_measure = measure;
      d0 = candidates[k];
      g = candidate_g[k];
      eig_values = v;
      eig_vectors = eig.eigenvectors();
    }
  }
  if (!std::isfinite(best_measure)) return 0;
  // The homogeneous form restricted to each plane: whichever of D1 and D2
  // is not (nearly) a multiple of D0 = D1 + g D2. With g D2 the larger part
  // of D0, D2 is nearly D0 / g (it would vanish on the planes), so D1; else
  // D1 is nearly D0, so D2.
  const Eigen::Matrix3d& dh = std::abs(g) * d2.norm() >= d1.norm() ? d1 : d2;

  std::vector<Eigen::Vector3d> directions;
  directions.reserve(4);
  int null_index = 0;
  for (int k = 1; k < 3; ++k) {
    if (std::abs(eig_values(k)) < std::abs(eig_values(null_index))) null_index = k;
  }
  if (null_index == 1 && eig_values(0) < 0 && eig_values(2) > 0) {
    const Eigen::Vector3d e_neg = eig_vectors.col(0), e_null = eig_vectors.col(1), e_pos = eig_vectors.col(2);
    const double s = std::sqrt(-eig_values(0) / eig_values(2));
    // v2 (e_pos.L)^2 + v0 (e_neg.L)^2 = 0  <=>  (e_pos.L) = +-s (e_neg.L).
    for (double sign : {1.0, -1.0}) {
      const Eigen::Vector3d normal = (e_pos - sign * s * e_neg).normalized();
      const Eigen::Vector3d a = e_null;  // on both planes
      const Eigen::Vector3d b = normal.cross(a).normalized();
      const double q11 = a.dot(dh * a), q12 = a.dot(dh * b), q22 = b.dot(dh * b);
      const double qmax = std::max({std::abs(q11), std::abs(q12), std::abs(q22)});
      if (!(qmax > 0)) continue;
      if (std::max(std::abs(q11), std::abs(q22)) < 1e-12 * qmax) {  // 2 q12 u v = 0
        directions.push_back(a);
        directions.push_back(b);
        continue;
      }
      const double disc = q12 * q12 - q11 * q22;
      if (disc < -1e-12 * qmax * qmax) continue;
      const double root = std::sqrt(std::max(0.0, disc));
      if (std::abs(q11) >= std::abs(q22)) {  // q11 t^2 + 2 q12 t + q22 = 0, t = u / v
        for (double r : {root, -root}) directions.push_back(((-q12 + r) / q11) * a + b);
      } else {  // q22 t^2 + 2 q12 t + q11 = 0, t = v / u
        for (double r : {root, -root}) directions.push_back(a + ((-q12 + r) / q22) * b);
      }
    }
  } else {
    // Semi-definite: the form vanishes on the null line only.
    directions.push_back(eig_vectors.col(null_index));
  }

  // Scale each direction by the best-conditioned distance equation, refine
  // the depths on all three (Gauss-Newton), and recover the pose.
  const Eigen::Matrix3d* m_ref = &m12;
  double a_ref = a12;
  if (a13 > a_ref) m_ref = &m13, a_ref = a13;
  if (a23 > a_ref) m_ref = &m23, a_ref = a23;
  const int first = static_cast<int>(out->size());
  Eigen::Matrix3d x_world;
  x_world.col(0) = d12;
  x_world.col(1) = d13;
  x_world.col(2) = d12.cross(d13);
  const Eigen::Matrix3d x_world_inv = x_world.inverse();
  if (!x_world_inv.allFinite()) return 0;
  const Eigen::Vector3d world_mean = (points[0] + points[1] + points[2]) / 3.0;
  for (const Eigen::Vector3d& dir : directions) {
    const double den = dir.dot(*m_ref * dir);
    if (!(den > 0)) continue;
    Eigen::Vector3d l = std::sqrt(a_ref / den) * dir;
    if (l.sum() < 0) l = -l;
    auto residuals = [&](const Eigen::Vector3d& l) {
      return Eigen::Vector3d(l(0) * l(0) + l(1) * l(1) + b12 * l(0) * l(1) - a12,
                             l(0) * l(0) + l(2) * l(2) + b13 * l(0) * l(2) - a13,
                             l(1) * l(1) + l(2) * l(2) + b23 * l(1) * l(2) - a23);
    };
    for (int it = 0; it < 5; ++it) {
      const Eigen::Vector3d f = residuals(l);
      if (f.cwiseAbs().maxCoeff() < 1e-14 * a_ref) break;
      Eigen::Matrix3d j;
      j << 2 * l(0) + b12 * l(1), 2 * l(1) + b12 * l(0), 0,  //
          2 * l(0) + b13 * l(2), 0, 2 * l(2) + b13 * l(0),    //
          0, 2 * l(1) + b23 * l(2), 2 * l(2) + b23 * l(1);
      const Eigen::Vector3d step = j.partialPivLu().solve(f);
      if (!step.allFinite()) break;
      l -= step;
    }
    if (!(l.minCoeff() > 0) || !l.allFinite()) continue;
    // A direction the refinement did not bring onto the three distance
    // equations (a squared distance off by more than 1e-8 of the largest)
    // is no solution: the header promises points on their rays.
    if (!(residuals(l).cwiseAbs().maxCoeff() <= 1e-8 * a_ref)) continue;
    const Eigen::Vector3d xc[3] = {l(0) * y[0], l(1) * y[1], l(2) * y[2]};
    Eigen::Matrix3d x_cam;
    x_cam.col(0) = xc[0] - xc[1];
    x_cam.col(1) = xc[0] - xc[2];
    x_cam.col(2) = x_cam.col(0).cross(x_cam.col(1));
    // Nearly a rotation; the closest one (polar factor) removes the rest.
    const Eigen::Matrix3d r_raw = x_cam * x_world_inv;
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(r_raw, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d r = svd.matrixU() * svd.matrixV().transpose();
    if (r.determinant() < 0) continue;
    const Eigen::Vector3d t = (xc[0] + xc[1] + xc[2]) / 3.0 - r * world_mean;
    if (!r.allFinite() || !t.allFinite()) continue;
    // The two planes meet on the null line: one solution can come twice.
    bool duplicate = false;
    for (int k = first; k < static_cast<int>(out->size()) && !duplicate; ++k) {
      duplicate = ((*out)[k].translation - t).norm() <= 1e-9 * (1.0 + t.norm()) &&
                  (*out)[k].rotation.angularDistance(Eigen::Quaterniond(r)) < 1e-9;
    }
    if (!duplicate) out->push_back(Rigid3d::FromMatrix(r, t));
  }
  return static_cast<int>(out->size()) - first;
}

}  // namespace armap::loc
