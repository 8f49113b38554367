// Depth maps rendered from the lidar map for perspective cameras: the depth
// of image pixels (virtual views, panorama crops, query photos) for anchoring
// image features on lidar surfaces.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/rigid3.h"
#include "mapping/lidar/lidar_map.h"

namespace armap::mapping {

struct DepthOptions {
  // Full-resolution points farther than this from the camera centre are
  // ignored, metres; and nearer than min_depth_m along the optical axis.
  double max_range_m = 80.0;
  double min_depth_m = 0.3;
  // Splatting: a point at depth z covers a disc of radius
  //   0.5 * splat_footprint_m * fx / z  pixels (at most max_splat_radius_px),
  // so near points, whose neighbours project far apart, close the gaps between
  // them; beyond ~fx * footprint metres a point covers its own pixel only.
  // The z-buffer keeps the nearest point per pixel (ties: lowest index, so
  // the result does not depend on thread timing).
  double splat_footprint_m = 0.08;
  int max_splat_radius_px = 8;
  // Occlusion (background seen through gaps in a nearer surface). Lidar
  // leaves gaps between its points, and no points at all on glass, so after
  // splatting, farther points show through. Rule: a pixel is "blocked" in
  // one of 8 directions (horizontal, vertical, diagonal) when, walking from
  // it in that direction, a pixel with a depth nearer by more than
  // occlusion_relative * depth + occlusion_absolute_m is met within that
  // nearer pixel's reach, occlusion_hole_m * fx / its depth pixels (the
  // image size of a hole occlusion_hole_m wide in the nearer surface; at
  // least 2 px, at most occlusion_max_reach_px). A pixel blocked in two
  // opposite directions lies inside a hole of a nearer surface and is
  // invalidated. A surface seen at a grazing angle (the ground, nearer only
  // below) and background beside a silhouette (nearer on one side) are kept.
  double occlusion_hole_m = 2.0;
  int occlusion_max_reach_px = 64;
  double occlusion_relative = 0.1;
  double occlusion_absolute_m = 0.3;
  // Sub-pixel depth: the winning point of a pixel projects up to half a
  // pixel (more inside a splat) from the pixel centre, which on a grazing
  // surface is a large depth error (ground 20 m away seen by a camera 2.5 m
  // up with fx = 160 changes by 1 m per pixel row). When on, each pixel's
  // depth is evaluated at its centre on a plane in (u, v, 1/z) -- exact for
  // planar surfaces under perspective -- fitted to the distinct winning
  // points of the pixels around it (2 px plus the splat radius): first those
  // within 10% + 5 cm of the pixel's own point, then every one within
  // 30% + 10 cm that lies within 1% + 3 cm of that plane (refitted while
  // points drop out). A pixel without such a plane (fewer than 4 points, all
  // on one line) or whose own point is off the plane is invalidated: its
  // depth cannot be told at the centre. Off, the raw depth of the nearest
  // point is kept.
  bool refine_subpixel = true;

  // InvalidArgument naming the field ("DepthOptions::max_range_m = -1; ...").
  absl::Status Validate() const;
};

struct DepthMap {
  int width = 0;
  int height = 0;
  // Row-major z-depth along the optical axis, metres; 0 = no depth.
  std::vector<float> depth_m;

  float at(int col, int row) const { return depth_m[static_cast<size_t>(row) * width + col]; }
  size_t NumValid() const;
  // Depth at an image position (pixel-centre convention of core/camera.h),
  // or nullopt near depth discontinuities and holes: the 3x3 pixels around
  // the nearest pixel must all be valid and agree with one plane in inverse
  // depth (the exact form of a planar surface in the image) within
  // 2% + 3 cm each; the value is that plane at (x, y). A constant-depth
  // neighbourhood is the special case; a slanted surface passes, a step
  // between two surfaces does not (the plane splits a step over three
  // pixels, so steps above ~3 times the tolerance, ~10% at range, are
  // refused; smaller ones are within what the tolerance accepts anyway).
  std::optional<double> DepthAt(double x, double y) const;
};

struct DepthRenderStats {
  size_t num_cells_visited = 0;
  size_t num_points_tested = 0;
  size_t num_points_splatted = 0;   // in front of the camera, in range and in the image
  size_t num_pixels_hit = 0;        // pixels with a depth after splatting
  size_t num_pixels_occluded = 0;   // invalidated by the occlusion test
  size_t num_pixels_refined = 0;    // moved to the sub-pixel plane estimate
  double splat_seconds = 0, occlusion_seconds = 0, refine_seconds = 0;
  double seconds = 0;               // total
};

// Renders the lidar map's full-resolution points into a depth map for a
// perspective camera (PINHOLE or OPENCV); cam_from_world maps map-frame
// points into the camera frame (x right, y down, z forward).
// InvalidArgument for an equirectangular or invalid camera, or bad options.
[[nodiscard]] absl::StatusOr<DepthMap> RenderDepth(const LidarMap& map, const Camera& camera,
                                                   const Rigid3d& cam_from_world, const DepthOptions& options = {},
                                                   DepthRenderStats* stats = nullptr);

// RenderDepth(...)->DepthAt(x, y) for each pixel, the same values, faster
// when the pixels are few (feature keypoints): the sub-pixel refinement, most
// of RenderDepth's time, runs only on the pixels DepthAt reads.
[[nodiscard]] absl::StatusOr<std::vector<std::optional<double>>> RenderDepthAt(
    const LidarMap& map, const Camera& camera, const Rigid3d& cam_from_world, const std::vector<Eigen::Vector2d>& pixels,
    const DepthOptions& options = {}, DepthRenderStats* stats = nullptr);

}  // namespace armap::mapping
