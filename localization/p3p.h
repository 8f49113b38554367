// The minimal absolute pose problem (P3P): the camera poses that put three
// world points on three bearing rays. Solved as in Lambda Twist (Persson &
// Nordberg, ECCV 2018): the three distance equations in the points' depths
// are two homogeneous quadratic forms, a degenerate combination of which
// factors into two planes; on each plane the depths follow from one
// quadratic, then a few Gauss-Newton steps on the original equations and
// the rotation from the two triangles. Plain Eigen, no allocation beyond
// the output: it runs once per RANSAC hypothesis.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "core/rigid3.h"

namespace armap::loc {

// bearings: unit rays in the camera frame (any length is normalised);
// points: the world points they see. Appends up to 4 poses (cam_from_world)
// with all three points in front of the camera to *out and returns how many.
// Collinear or coincident points give none or meaningless poses (callers
// check the sample first).
int SolveP3P(const Eigen::Vector3d bearings[3], const Eigen::Vector3d points[3], std::vector<Rigid3d>* out);

}  // namespace armap::loc
