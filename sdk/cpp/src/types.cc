// Transport-free parts of the client: version, names and request checks.
#include "armap/sdk/types.h"

#include <string>

#ifndef ARMAP_SDK_VERSION
#define ARMAP_SDK_VERSION "0.0.0"
#endif

namespace armap::sdk {

const char* Version() { return ARMAP_SDK_VERSION; }

const char* FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kNone: return "NONE";
    case FailureReason::kNoCandidates: return "NO_CANDIDATES";
    case FailureReason::kTooFewFeatures: return "TOO_FEW_FEATURES";
    case FailureReason::kTooFewMatches: return "TOO_FEW_MATCHES";
    case FailureReason::kTooFewInliers: return "TOO_FEW_INLIERS";
    case FailureReason::kDegenerateGeometry: return "DEGENERATE_GEOMETRY";
    case FailureReason::kLowConfidence: return "LOW_CONFIDENCE";
  }
  return "UNKNOWN";
}

absl::Status ValidateLocalizeRequest(const LocalizeRequest& request, int64_t max_message_bytes) {
  const bool has_image = !request.image.empty();
  const bool has_features = !request.keypoints.empty() || !request.descriptors.empty() || request.descriptor_dim != 0;
  if (has_image && has_features) {
    return absl::InvalidArgumentError(
        "LocalizeRequest: both image and features are set; send exactly one of them");
  }
  if (!has_image && !has_features) {
    return absl::InvalidArgumentError("LocalizeRequest: no input; set image or keypoints + descriptors");
  }
  if (request.timeout_ms < 0) {
    return absl::InvalidArgumentError("LocalizeRequest::timeout_ms = " + std::to_string(request.timeout_ms) +
                                      "; must be >= 0 (0 = the client's default)");
  }
  const auto limit = static_cast<uint64_t>(max_message_bytes);
  if (has_image) {
    if (max_message_bytes > 0 && request.image.size() > limit) {
      return absl::InvalidArgumentError("LocalizeRequest::image is " + std::to_string(request.image.size()) +
                                        " bytes; the limit is " + std::to_string(max_message_bytes) +
                                        " (ClientOptions::max_message_bytes)");
    }
    return absl::OkStatus();
  }
  if (request.keypoints.size() % 4 != 0) {
    return absl::InvalidArgumentError("LocalizeRequest::keypoints has " + std::to_string(request.keypoints.size()) +
                                      " floats; must be 4 per keypoint (x, y, scale, orientation)");
  }
  const uint64_t n = request.keypoints.size() / 4;
  if (n == 0) return absl::InvalidArgumentError("LocalizeRequest::keypoints is empty");
  if (request.descriptor_dim == 0) {
    return absl::InvalidArgumentError("LocalizeRequest::descriptor_dim = 0; must be > 0");
  }
  if (request.descriptors.size() != n * request.descriptor_dim) {
    return absl::InvalidArgumentError("LocalizeRequest::descriptors has " + std::to_string(request.descriptors.size()) +
                                      " bytes; expected " + std::to_string(n) + " keypoints x " +
                                      std::to_string(request.descriptor_dim) + " = " +
                                      std::to_string(n * request.descriptor_dim));
  }
  const uint64_t payload = request.keypoints.size() * sizeof(float) + request.descriptors.size();
  if (max_message_bytes > 0 && payload > limit) {
    return absl::InvalidArgumentError("LocalizeRequest features are " + std::to_string(payload) +
                                      " bytes; the limit is " + std::to_string(max_message_bytes) +
                                      " (ClientOptions::max_message_bytes)");
  }
  return absl::OkStatus();
}

}  // namespace armap::sdk
