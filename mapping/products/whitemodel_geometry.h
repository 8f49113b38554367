// Plan-view polygon helpers of the white models: rectilinear regularisation,
// decomposition into rectangles, simplification, IoU. Internal to the
// whitemodel library (and its tests).
#pragma once

#include <vector>

#include <Eigen/Core>

namespace armap::mapping::internal {

using Polygon2 = std::vector<Eigen::Vector2d>;  // not closed

double SignedArea(const Polygon2& poly);  // > 0 for CCW

// Drops repeated vertices and vertices between collinear edges of one
// direction, until none is left (the input when fewer than 3 would remain).
Polygon2 RemoveRepeatedAndCollinear(const Polygon2& poly);

// Snaps edges within tol_deg of the u (x) or v (y) axis onto it, merges
// consecutive edges of one direction and puts the vertices at the
// intersections. Returns the input unchanged when an edge is oblique.
Polygon2 Rectilinearize(const Polygon2& poly, double tol_deg);

// Whether at least min_fraction of the outline's length lies within tol_deg
// of an axis (then a 45 deg Rectilinearize snaps the jagged rest).
bool MostlyRectilinear(const Polygon2& poly, double tol_deg, double min_fraction);

// An edge of a rectilinear polygon: horizontal (v = coordinate, u in
// [lo, hi]) or vertical (u = coordinate, v in [lo, hi]).
struct AxisEdge {
  bool horizontal = true;
  double coordinate = 0;
  double lo = 0, hi = 0;
};
// Edge k runs from vertex k to k+1. Empty when the polygon is not rectilinear
// (alternating horizontal and vertical edges).
std::vector<AxisEdge> AxisEdges(const Polygon2& poly);
// The polygon of edges whose coordinates changed (vertex k = edge k-1 x edge k).
Polygon2 PolygonFromAxisEdges(const std::vector<AxisEdge>& edges, const Polygon2& fallback);
// Drops edges shorter than min_length_m of a rectilinear polygon (their
// neighbours merge); removes repeated and collinear vertices of any polygon.
Polygon2 Cleanup(const Polygon2& poly, double min_length_m);

struct Rect {
  double u0, v0, u1, v1;
};
// A rectilinear polygon as the cells of its own vertex-coordinate grid that
// lie inside it; one bounding rectangle when the polygon is not rectilinear.
std::vector<Rect> RectilinearPieces(const Polygon2& poly);
// Merges neighbouring rectangles whose values differ by less than max_step
// and whose union is a rectangle, area-weighted, until none is left.
void MergePieces(std::vector<Rect>* pieces, std::vector<double>* values, std::vector<double>* areas, double max_step);

// Closed Douglas-Peucker within tolerance_m, then Rectilinearize (15 deg).
Polygon2 Simplify(const Polygon2& poly, double tolerance_m);

// Symmetric distance between two outlines, metres: the largest distance of a
// point of either boundary (sampled every 0.1 m and at the vertices) from
// the other boundary (the Hausdorff distance of the boundaries, to 0.05 m).
double OutlineDistance(const Polygon2& a, const Polygon2& b);

// Simplify, checked: the result's OutlineDistance from `poly` is at most
// tolerance_m (Simplify's merges can add up past it; then it retries with a
// smaller tolerance, and returns `poly` itself when nothing fits).
Polygon2 SimplifyWithin(const Polygon2& poly, double tolerance_m);

// Union of axis-aligned rectangles that touch along edges: its outline when
// it is one polygon without holes, else empty.
Polygon2 UnionOutline(const std::vector<Rect>& rects);

// Whether segment p-q crosses an edge of any outline except outlines[skip].
bool SegmentHitsAnyOutline(const Eigen::Vector2d& p, const Eigen::Vector2d& q, const std::vector<Polygon2>& outlines,
                           int skip);

// Areas of simple polygons (any orientation): intersection over union.
double PolygonIoU(const Polygon2& a, const Polygon2& b);
double PolygonArea(const Polygon2& poly);

}  // namespace armap::mapping::internal
