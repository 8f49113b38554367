#include "core/logging.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace armap {

void InitLogging(LogLevel level) {
  auto logger = spdlog::stderr_color_mt("armap");
  logger->set_pattern("%^[%H:%M:%S.%e %l]%$ %v");
  switch (level) {
    case LogLevel::kDebug: logger->set_level(spdlog::level::debug); break;
    case LogLevel::kInfo: logger->set_level(spdlog::level::info); break;
    case LogLevel::kWarn: logger->set_level(spdlog::level::warn); break;
    case LogLevel::kError: logger->set_level(spdlog::level::err); break;
  }
  spdlog::set_default_logger(logger);
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) != 0; }

struct Progress::Impl {
  std::string label;
  long total = 0;
  std::atomic<long> done{0};
  std::mutex mutex;
  int last_decile = -1;
  bool tty = false;
  bool finished = false;
  std::chrono::steady_clock::time_point start;
};

Progress::Progress(std::string label, long total) : impl_(new Impl) {
  impl_->label = std::move(label);
  impl_->total = total > 0 ? total : 1;
  impl_->tty = StderrIsTerminal();
  impl_->start = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  Done();
  delete impl_;
}

void Progress::Add(long n) {
  const long done = impl_->done += n;
  const int percent = static_cast<int>(100 * done / impl_->total);
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->tty) {
    std::fprintf(stderr, "\r%s [%3d%%] %ld/%ld", impl_->label.c_str(), percent, done, impl_->total);
    std::fflush(stderr);
  } else if (percent / 10 > impl_->last_decile) {
    impl_->last_decile = percent / 10;
    spdlog::info("{}: {}% ({}/{})", impl_->label, percent, done, impl_->total);
  }
}

void Progress::Done() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->finished) return;
  impl_->finished = true;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - impl_->start).count();
  if (impl_->tty) std::fprintf(stderr, "\n");
  spdlog::info("{}: done in {:.2f} s", impl_->label, seconds);
}

}  // namespace armap
