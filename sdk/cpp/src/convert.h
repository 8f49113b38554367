// Conversions between the SDK's plain types and the API's protobuf messages,
// and from grpc::Status to absl::Status (the codes are the same numbers).
// Internal to sdk/cpp.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "armap/sdk/types.h"
#include "armap/v1/localization.pb.h"

namespace armap::sdk::internal {

void ToProto(const LocalizeRequest& request, v1::LocalizeRequest* out);
LocalizeResult FromProto(const v1::LocalizeResponse& response);
MapInfo FromProto(const v1::MapInfo& info);

// Same code; the message is prefixed with `context` (e.g. "Localize to
// 127.0.0.1:50051").
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& context);

}  // namespace armap::sdk::internal
