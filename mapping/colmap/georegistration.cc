#include "mapping/colmap/georegistration.h"

#include <Eigen/Geometry>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace armap::mapping {

absl::Status GeoRegistrationOptions::Validate() const {
  if (min_images < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("GeoRegistrationOptions::min_images = ", min_images, "; must be >= 3"));
  }
  if (!(min_gps_spread_m >= 0) || !std::isfinite(min_gps_spread_m)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GeoRegistrationOptions::min_gps_spread_m = ", min_gps_spread_m, "; must be finite and >= 0"));
  }
  if (!(min_centre_spread_ratio >= 0 && min_centre_spread_ratio < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GeoRegistrationOptions::min_centre_spread_ratio = ", min_centre_spread_ratio, "; must be in [0, 1)"));
  }
  if (!(max_rms_residual_m > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GeoRegistrationOptions::max_rms_residual_m = ", max_rms_residual_m, "; must be > 0"));
  }
  return absl::OkStatus();
}

OrderedJson GeoRegistrationOptions::ToJson() const {
  return OrderedJson{{"enabled", enabled},
                     {"min_images", min_images},
                     {"min_gps_spread_m", min_gps_spread_m},
                     {"min_centre_spread_ratio", min_centre_spread_ratio},
                     {"max_rms_residual_m", max_rms_residual_m}};
}

OrderedJson GeoRegistration::ToJson() const {
  OrderedJson out;
  out["method"] = registered ? "exif_gps_sim3" : "none";
  out["images_with_gps"] = images_with_gps;
  if (registered) {
    out["scale"] = map_from_model.scale;
    out["rms_residual_m"] = rms_residual_m;
    out["max_residual_m"] = max_residual_m;
    out["camera_up_tilt_deg"] = camera_up_tilt_deg;
    out["used_altitude"] = used_altitude;
    out["origin"] = {{"lat_deg", origin.lat_deg}, {"lon_deg", origin.lon_deg}, {"alt_m", origin.alt_m}};
    const Eigen::Quaterniond& q = map_from_model.rotation;
    out["map_from_model"] = {
        {"scale", map_from_model.scale},
        {"rotation_wxyz", {q.w(), q.x(), q.y(), q.z()}},
        {"translation",
         {map_from_model.translation.x(), map_from_model.translation.y(), map_from_model.translation.z()}}};
  } else {
    out["reason"] = reason;
    out["note"] =
        "the map frame is the COLMAP model's own (arbitrary origin, orientation and scale); the manifest origin "
        "0,0,0 is a placeholder";
  }
  return out;
}

GeoRegistration EstimateGeoRegistration(const std::vector<GpsCorrespondence>& gps,
                                        const std::vector<bool>& has_altitude,
                                        const std::vector<Rigid3d>& cams_from_model,
                                        const GeoRegistrationOptions& options) {
  GeoRegistration out;
  out.images_with_gps = static_cast<int>(gps.size());
  if (!options.enabled) {
    out.reason = "disabled (GeoRegistrationOptions::enabled = false)";
    return out;
  }
  if (out.images_with_gps < options.min_images) {
    out.reason =
        absl::StrCat(out.images_with_gps, " registered photo(s) have EXIF GPS; ", options.min_images, " are needed");
    return out;
  }
  const int n = out.images_with_gps;
  out.used_altitude = std::all_of(has_altitude.begin(), has_altitude.end(), [](bool b) { return b; }) &&
                      has_altitude.size() == gps.size();

  // Origin: the mean GPS position, averaged in ECEF (exact for any spread).
  Eigen::Vector3d mean_ecef = Eigen::Vector3d::Zero();
  for (const GpsCorrespondence& c : gps) {
    GeoPoint p = c.gps;
    if (!out.used_altitude) p.alt_m = 0;
    mean_ecef += EnuFrame::EcefFromWgs84(p);
  }
  mean_ecef /= n;
  out.origin = EnuFrame::Wgs84FromEcef(mean_ecef);
  const EnuFrame enu(out.origin);

  Eigen::Matrix3Xd src(3, n), dst(3, n);
  for (int i = 0; i < n; ++i) {
    GeoPoint p = gps[i].gps;
    if (!out.used_altitude) p.alt_m = 0;
    src.col(i) = gps[i].point_in_model;
    dst.col(i) = enu.EnuFromWgs84(p);
  }
  if (!src.allFinite() || !dst.allFinite()) {
    out.reason = "non-finite camera centre or GPS position";
    return out;
  }

  const Eigen::Vector3d dst_mean = dst.rowwise().mean();
  const double gps_spread_m = std::sqrt((dst.colwise() - dst_mean).squaredNorm() / n);
  if (gps_spread_m < options.min_gps_spread_m) {
    out.reason = absl::StrCat("GPS positions spread only ", gps_spread_m, " m (rms about their mean); at least ",
                              options.min_gps_spread_m, " m are needed");
    return out;
  }
  const Eigen::Vector3d src_mean = src.rowwise().mean();
  const Eigen::JacobiSVD<Eigen::Matrix3Xd> svd(src.colwise() - src_mean);
  const Eigen::Vector3d sv = svd.singularValues();
  if (!(sv(0) > 0) || sv(1) < options.min_centre_spread_ratio * sv(0)) {
    out.reason = absl::StrCat("the camera centres of the GPS photos are (nearly) collinear (singular value ratio ",
                              sv(0) > 0 ? sv(1) / sv(0) : 0.0, " < ", options.min_centre_spread_ratio,
                              "): the rotation about their line is undetermined");
    return out;
  }

  const Eigen::Matrix4d m = Eigen::umeyama(src, dst, /*with_scaling=*/true);
  const Eigen::Matrix3d sr = m.topLeftCorner<3, 3>();
  const double scale = std::cbrt(sr.determinant());
  if (!(scale > 0) || !std::isfinite(scale)) {
    out.reason = "the similarity fit is degenerate (scale <= 0)";
    return out;
  }
  const Sim3d map_from_model(scale, Eigen::Quaterniond(sr / scale), m.topRightCorner<3, 1>());
  double sum_sq = 0, max_r = 0;
  for (int i = 0; i < n; ++i) {
    const double r = (map_from_model * src.col(i) - dst.col(i)).norm();
    sum_sq += r * r;
    max_r = std::max(max_r, r);
  }
  const double rms = std::sqrt(sum_sq / n);
  if (!(rms <= options.max_rms_residual_m)) {
    out.reason = absl::StrCat("the GPS fit's rms residual ", rms, " m exceeds ", options.max_rms_residual_m, " m");
    return out;
  }

  // Mean camera "up" (-y of the camera frame) in the map frame vs +z.
  Eigen::Vector3d up_sum = Eigen::Vector3d::Zero();
  for (const Rigid3d& cam_from_model : cams_from_model) {
    up_sum += map_from_model.rotation * (cam_from_model.rotation.conjugate() * Eigen::Vector3d(0, -1, 0));
  }
  if (up_sum.norm() > 0) {
    const double c = std::clamp(up_sum.normalized().z(), -1.0, 1.0);
    out.camera_up_tilt_deg = std::acos(c) * 180.0 / M_PI;
  }

  out.registered = true;
  out.map_from_model = map_from_model;
  out.rms_residual_m = rms;
  out.max_residual_m = max_r;
  return out;
}

}  // namespace armap::mapping
