// PoseFusion: the thread-safe, absl::Status face of PoseFusionCore
// (armap/sdk/core/pose_fusion_core.h, which holds the algorithm).
#include "armap/sdk/pose_fusion.h"

#include <mutex>
#include <string>
#include <utility>

namespace armap::sdk {
namespace {

absl::Status ToStatus(const Error& e) {
  if (e.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(e.code), e.message);
}

template <typename T>
absl::StatusOr<T> ToStatusOr(Result<T> r) {
  if (!r.ok()) return ToStatus(r.error());
  return std::move(r).value();
}

}  // namespace

absl::Status PoseFusionOptions::Validate() const { return ToStatus(Check()); }

struct PoseFusion::Impl {
  Impl(const PoseFusionOptions& o, PoseFusionCore c) : options(o), core(std::move(c)) {}
  const PoseFusionOptions options;
  mutable std::mutex mutex;
  PoseFusionCore core;
};

PoseFusion::PoseFusion(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PoseFusion::~PoseFusion() = default;

absl::StatusOr<std::unique_ptr<PoseFusion>> PoseFusion::Create(const PoseFusionOptions& options) {
  Result<PoseFusionCore> core = PoseFusionCore::Create(options);
  if (!core.ok()) return ToStatus(core.error());
  return std::unique_ptr<PoseFusion>(new PoseFusion(std::make_unique<Impl>(options, std::move(core).value())));
}

absl::Status PoseFusion::AddTracking(double timestamp_s, const Rigid3& session_from_cam) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatus(impl_->core.AddTracking(timestamp_s, session_from_cam));
}

absl::StatusOr<FixOutcome> PoseFusion::AddFix(double timestamp_s, const Rigid3& map_from_cam, double confidence) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatusOr(impl_->core.AddFix(timestamp_s, map_from_cam, confidence));
}

absl::StatusOr<FixOutcome> PoseFusion::AddFixWithSigma(double timestamp_s, const Rigid3& map_from_cam,
                                                       double position_sigma_m, double yaw_sigma_deg) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatusOr(impl_->core.AddFixWithSigma(timestamp_s, map_from_cam, position_sigma_m, yaw_sigma_deg));
}

bool PoseFusion::initialized() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->core.initialized();
}

absl::StatusOr<Rigid3> PoseFusion::MapFromSession() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatusOr(impl_->core.MapFromSession());
}

absl::StatusOr<Rigid3> PoseFusion::TargetMapFromSession() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatusOr(impl_->core.TargetMapFromSession());
}

absl::StatusOr<Rigid3> PoseFusion::MapFromCam(double timestamp_s) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return ToStatusOr(impl_->core.MapFromCam(timestamp_s));
}

PoseFusionStats PoseFusion::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->core.stats();
}

const PoseFusionOptions& PoseFusion::options() const { return impl_->options; }

void PoseFusion::Reset() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->core.Reset();
}

}  // namespace armap::sdk
