// Evaluation through a running server: queries go over gRPC via the C++ SDK
// (the path a partner's app takes), answers come back as EvalAnswer.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "localization/evaluation.h"
#include "localization/localizer.h"

namespace armap::tools {

class RemoteLocalizer {
 public:
  // Connects to HOST:PORT and selects the map whose id is the package's at
  // `map_dir` (NotFound when the server does not serve it).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RemoteLocalizer>> Connect(const std::string& target,
                                                                                const std::string& map_dir);
  virtual ~RemoteLocalizer() = default;
  virtual absl::StatusOr<loc::EvalAnswer> Localize(const std::string& request_id, const loc::Query& query) = 0;
  virtual const std::string& map_id() const = 0;
  virtual int64_t map_version() const = 0;
};

}  // namespace armap::tools
