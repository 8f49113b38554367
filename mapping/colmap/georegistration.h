// Geo-registration of an SfM model from the photos' GPS: a similarity
// (Umeyama, with scale) from the model's camera centres to the GPS
// positions in a local ENU frame whose origin is their mean.
//
// Not registering is not an error: the result says why (too few GPS
// photos, GPS positions too close together, camera centres collinear, a
// residual too large to trust), and the map keeps the model's own frame.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/geo.h"
#include "core/json.h"
#include "core/rigid3.h"

namespace armap::mapping {

struct GeoRegistrationOptions {
  // Off: never register (the map keeps the model's frame).
  bool enabled = true;
  // Photos with GPS needed; 3 non-collinear points fix a similarity.
  int min_images = 3;
  // RMS distance of the GPS positions from their mean, metres. Phone GPS
  // errs by a few metres, so positions closer than this say little about
  // scale and heading.
  double min_gps_spread_m = 3.0;
  // Second / first singular value of the centred camera centres: below
  // this they are (nearly) on a line and the rotation about it is free.
  double min_centre_spread_ratio = 0.05;
  // A fit whose RMS residual exceeds this is rejected (wrong GPS, or a
  // model that is not one rigid scene), metres.
  double max_rms_residual_m = 30.0;

  absl::Status Validate() const;
  OrderedJson ToJson() const;
};

struct GpsCorrespondence {
  std::string name;                // the photo, for the report
  Eigen::Vector3d point_in_model;  // camera centre
  GeoPoint gps;
};

struct GeoRegistration {
  bool registered = false;
  std::string reason;  // why not, when !registered
  int images_with_gps = 0;
  bool used_altitude = true;  // false: some photo lacks GPS altitude; all set to 0
  GeoPoint origin;            // ENU origin: mean of the GPS positions (via ECEF)
  Sim3d map_from_model;       // map frame = ENU at `origin`
  double rms_residual_m = 0;  // |map_from_model * centre - gps_in_enu|
  double max_residual_m = 0;
  // Angle between the map's up (+z) and the mean "up" of the cameras
  // (-y of each camera frame), degrees: small for upright photos; large
  // values flag a fit tilted by poor GPS altitudes.
  double camera_up_tilt_deg = 0;

  OrderedJson ToJson() const;
};

// `cams_from_model` are the registered cameras (for camera_up_tilt_deg and
// nothing else); `gps` the photos that have a GPS position. has_altitude
// says, per entry of `gps`, whether the altitude is real.
GeoRegistration EstimateGeoRegistration(const std::vector<GpsCorrespondence>& gps,
                                        const std::vector<bool>& has_altitude,
                                        const std::vector<Rigid3d>& cams_from_model,
                                        const GeoRegistrationOptions& options);

}  // namespace armap::mapping
