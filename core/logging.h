// The one logging entry point for armap code (spdlog backend). Never include
// glog or absl/log directly in armap sources: they collide (STYLE.md 2.3).
#pragma once

#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "absl/strings/string_view.h"

// Debian's Abseil has its own string_view type: let fmt print it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

#define ARMAP_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define ARMAP_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define ARMAP_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
#define ARMAP_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)

// Invariant checks: a failure is a programmer error and aborts.
#define ARMAP_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) {                                                          \
      ::spdlog::critical("{}:{} Check failed: {}", __FILE__, __LINE__, #cond); \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

namespace armap {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Configures the process-wide logger: level and whether stderr is used.
void InitLogging(LogLevel level);

// True when stderr is an interactive terminal (progress bars only then).
bool StderrIsTerminal();

// A progress reporter for long work: a live bar on a terminal, a log line
// every ~10% otherwise. Thread-safe Add().
class Progress {
 public:
  Progress(std::string label, long total);
  ~Progress();
  void Add(long n = 1);
  void Done();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace armap
