// Pose fusion: keeps AR content steady between positioning fixes.
//
// The phone's tracking (ARKit, ARCore, WebXR) gives session_from_cam at
// 60 Hz in a gravity-aligned session frame that drifts (about 1% of the
// distance walked, plus a little yaw). Positioning fixes (Client::Localize)
// give map_from_cam every few seconds, noisy and now and then wrong by
// metres. PoseFusion estimates map_from_session from the two:
//
//  - 4 degrees of freedom: both frames know gravity, so map_from_session is a
//    rotation about the vertical (yaw) and a translation; the fixes' pitch
//    and roll noise never reaches the output.
//  - robust: a fix is weighed against a sliding window of recent fixes
//    (consensus of single-fix hypotheses, then Huber-weighted least squares),
//    so an outlier is rejected and a wrong first fix is replaced as soon as
//    later fixes agree with each other.
//  - following the drift: a fix's weight falls with the distance walked (and
//    the time passed) since it was taken, the tracking's drift model.
//  - smooth: the displayed map_from_session moves towards the estimate with a
//    time constant and capped speeds, pivoting about the camera, so content
//    never jumps between frames (only the first fix snaps).
//
// Both poses must use the same camera frame (e.g. convert ARKit's OpenGL
// camera to OpenCV's, or pass both in ARKit's): only the camera's position
// and the yaw of its orientation enter the estimate.
//
//   armap::sdk::PoseFusionOptions options;                 // session up = +y (ARKit, ARCore, WebXR)
//   auto fusion = armap::sdk::PoseFusion::Create(options);
//   every frame:  (*fusion)->AddTracking(frame_time_s, session_from_cam);
//                 auto map_from_cam = (*fusion)->MapFromCam(frame_time_s);   // render with this
//   on each fix:  (*fusion)->AddFix(image_time_s, result.cam_from_world inverted, result.confidence);
//
// Thread-safe: every method takes an internal lock (tracking from the render
// thread, fixes from a network callback).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "armap/sdk/types.h"

namespace armap::sdk {

// The session frame's "up" (opposite to gravity). Values equal the C ABI's
// ArmapSessionUpAxis.
enum class SessionUpAxis : int32_t {
  kY = 0,  // ARKit, ARCore, WebXR, Unity (y up)
  kZ = 1,  // z up, like the map frame (ENU)
};

struct PoseFusionOptions {
  SessionUpAxis session_up_axis = SessionUpAxis::kY;

  // ---- fixes
  // 1-sigma position and yaw noise of a fix of confidence 1; a fix of
  // confidence c counts as sigma / max(c, min_confidence).
  double fix_position_sigma_m = 0.05;
  double fix_yaw_sigma_deg = 0.5;
  // Fixes below this confidence are ignored (counted as rejected).
  double min_confidence = 0.05;

  // ---- tracking drift model
  // 1-sigma drift, metres per metre walked: the prior of the estimated
  // drift rate (per axis) and the growth of a fix's sigma with the distance
  // walked since (times drift_nonlinearity, the part a locally linear drift
  // does not explain, for the estimate; fully for the consensus).
  double drift_fraction = 0.01;
  double drift_nonlinearity = 0.3;
  double drift_m_per_s = 0.002;          // standing still drifts too
  double yaw_drift_deg_per_m = 0.02;
  double yaw_drift_deg_per_s = 0.005;

  // ---- robust window estimate
  int window_size = 12;                  // most recent fixes kept
  double window_s = 120;                 // and no older than this
  // A fix agrees with a hypothesis when its residual is within gate_sigma
  // sigmas (position and yaw), or within the floors below.
  double gate_sigma = 4.0;
  double gate_floor_m = 0.3;
  double gate_floor_deg = 2.0;
  double huber_k = 2.0;                  // Huber threshold, in sigmas

  // The estimated drift rate is extrapolated at most this far past the
  // newest fix (when fixes stop coming).
  double max_drift_extrapolation_m = 20;

  // ---- smoothing of the displayed map_from_session
  double blend_time_s = 0.5;             // exponential approach time constant
  double max_correction_speed_mps = 1.0; // of the camera's displayed position
  double max_correction_yaw_rate_dps = 3.0;

  // ---- tracking buffer (fixes are matched to tracking by timestamp)
  double tracking_history_s = 10;
  // A fix or query this far past the newest tracking pose is extrapolated;
  // further is FAILED_PRECONDITION / OUT_OF_RANGE.
  double max_extrapolation_s = 0.2;

  // InvalidArgument naming the field ("PoseFusionOptions::window_size = 0; must be >= 1").
  [[nodiscard]] absl::Status Validate() const;
};

// What AddFix did with a fix. Values equal the C ABI's ArmapFixOutcome.
enum class FixOutcome : int32_t {
  kInitialized = 0,  // the first fix: map_from_session snapped to it
  kAccepted = 1,     // agrees with the recent fixes; the estimate moves
  kRejected = 2,     // an outlier (or confidence below min_confidence)
  kReset = 3,        // the recent fixes agree with each other but not with
                     // the previous estimate: it was replaced
};
const char* FixOutcomeName(FixOutcome outcome);

struct PoseFusionStats {
  int64_t num_tracking = 0;
  int64_t num_fixes = 0;
  int64_t num_accepted = 0;   // including the initializing fix
  int64_t num_rejected = 0;
  int64_t num_resets = 0;
  int32_t window_inliers = 0; // fixes supporting the current estimate
  // The displayed map_from_session's distance from the estimate (what is
  // still being blended in), at the camera's position and as yaw.
  double pending_correction_m = 0;
  double pending_correction_deg = 0;
  // Estimated 1-sigma of the estimate at the camera (position) and of yaw.
  double position_sigma_m = 0;
  double yaw_sigma_deg = 0;
  // Estimated tracking drift, metres per metre walked.
  double drift_rate = 0;
};

class PoseFusion {
 public:
  static absl::StatusOr<std::unique_ptr<PoseFusion>> Create(const PoseFusionOptions& options = {});
  ~PoseFusion();
  PoseFusion(const PoseFusion&) = delete;
  PoseFusion& operator=(const PoseFusion&) = delete;

  // A tracking pose at timestamp_s (seconds, any epoch shared with the fixes;
  // non-decreasing). Advances the smoothing. InvalidArgument for a
  // non-finite pose, a non-unit-able quaternion or a timestamp going back.
  [[nodiscard]] absl::Status AddTracking(double timestamp_s, const Rigid3& session_from_cam);

  // A positioning fix taken at timestamp_s (the image's capture time, which
  // may be before the newest tracking pose: the tracking is interpolated).
  // FailedPrecondition if no tracking pose covers timestamp_s.
  [[nodiscard]] absl::StatusOr<FixOutcome> AddFix(double timestamp_s, const Rigid3& map_from_cam, double confidence);
  // The same with explicit 1-sigma noise of this fix.
  [[nodiscard]] absl::StatusOr<FixOutcome> AddFixWithSigma(double timestamp_s, const Rigid3& map_from_cam,
                                                           double position_sigma_m, double yaw_sigma_deg);

  // True once a fix was accepted.
  bool initialized() const;
  // The displayed (smoothed) map_from_session; FailedPrecondition before
  // the first fix.
  [[nodiscard]] absl::StatusOr<Rigid3> MapFromSession() const;
  // The un-smoothed estimate the display is moving towards.
  [[nodiscard]] absl::StatusOr<Rigid3> TargetMapFromSession() const;
  // The displayed map_from_session times the tracking at timestamp_s
  // (interpolated; extrapolated up to max_extrapolation_s past the newest).
  [[nodiscard]] absl::StatusOr<Rigid3> MapFromCam(double timestamp_s) const;

  PoseFusionStats stats() const;
  const PoseFusionOptions& options() const;
  // Forgets everything (e.g. after the AR session restarted).
  void Reset();

 private:
  struct Impl;
  explicit PoseFusion(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::sdk
