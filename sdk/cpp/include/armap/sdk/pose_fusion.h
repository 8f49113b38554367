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
// thread, fixes from a network callback) around PoseFusionCore, the
// algorithm without Abseil that the WebAssembly SDK shares.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "armap/sdk/core/pose_fusion_core.h"
#include "armap/sdk/types.h"

namespace armap::sdk {

// SessionUpAxis, FixOutcome, PoseFusionStats and the options' fields are
// defined with the portable core (armap/sdk/core/pose_fusion_core.h).
struct PoseFusionOptions : FusionOptions {
  // InvalidArgument naming the field ("PoseFusionOptions::window_size = 0; must be in 1..1000").
  [[nodiscard]] absl::Status Validate() const;
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
