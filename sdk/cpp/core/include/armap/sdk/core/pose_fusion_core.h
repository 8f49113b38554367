// The pose fusion algorithm without Abseil or locks (the portable core):
// armap::sdk::PoseFusion (armap/sdk/pose_fusion.h, absl::Status, thread-safe)
// and the WebAssembly SDK both wrap PoseFusionCore. What it does, the frames
// and the options are described in armap/sdk/pose_fusion.h.
#pragma once

#include <cstdint>
#include <memory>

#include "armap/sdk/core/geometry.h"
#include "armap/sdk/core/result.h"

namespace armap::sdk {

// The session frame's "up" (opposite to gravity). Values equal the C ABI's
// ArmapSessionUpAxis.
enum class SessionUpAxis : int32_t {
  kY = 0,  // ARKit, ARCore, WebXR, Unity (y up)
  kZ = 1,  // z up, like the map frame (ENU)
};

// The options' fields (PoseFusionOptions adds an absl::Status Validate()).
struct FusionOptions {
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

  // INVALID_ARGUMENT naming the field ("PoseFusionOptions::window_size = 0; must be in 1..1000").
  Error Check() const;
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

// Not thread-safe (PoseFusion adds the lock). Movable.
class PoseFusionCore {
 public:
  // INVALID_ARGUMENT for options failing Check().
  static Result<PoseFusionCore> Create(const FusionOptions& options);
  ~PoseFusionCore();
  PoseFusionCore(PoseFusionCore&&) noexcept;
  PoseFusionCore& operator=(PoseFusionCore&&) noexcept;

  // The contracts of PoseFusion's methods of the same names.
  Error AddTracking(double timestamp_s, const Rigid3& session_from_cam);
  Result<FixOutcome> AddFix(double timestamp_s, const Rigid3& map_from_cam, double confidence);
  Result<FixOutcome> AddFixWithSigma(double timestamp_s, const Rigid3& map_from_cam, double position_sigma_m,
                                     double yaw_sigma_deg);
  bool initialized() const;
  Result<Rigid3> MapFromSession() const;
  Result<Rigid3> TargetMapFromSession() const;
  Result<Rigid3> MapFromCam(double timestamp_s) const;
  PoseFusionStats stats() const;
  const FusionOptions& options() const;
  void Reset();

 private:
  struct Impl;
  explicit PoseFusionCore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::sdk
