#include "core/io/io_internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace armap::io::internal {

absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size_bytes = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading: ", ec.message()));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading"));
  std::string data(size_bytes, '\0');
  const size_t read_bytes = std::fread(data.data(), 1, data.size(), file.get());
  if (read_bytes != data.size()) {
    return absl::DataLossError(
        absl::StrCat(path.string(), ": read error after ", read_bytes, " of ", size_bytes, " bytes"));
  }
  return data;
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading: ", std::strerror(errno)));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a regular file"));
  }
  const auto size = static_cast<size_t>(info.st_size);
  if (size == 0) {  // mmap rejects length 0
    ::close(fd);
    return MappedFile(nullptr, 0);
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (data == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(path.string(), ": mmap failed: ", std::strerror(errno)));
  }
  return MappedFile(static_cast<const char*>(data), size);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

absl::StatusOr<AtomicFileWriter> AtomicFileWriter::Open(const std::filesystem::path& path) {
  std::filesystem::path tmp_path = path;
  tmp_path += ".tmp-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(tmp_path.c_str(), "wb");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(path.string(), ": cannot open for writing: ", std::strerror(errno)));
  }
  return AtomicFileWriter(path, std::move(tmp_path), file);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_path_(std::move(other.tmp_path_)),
      file_(std::exchange(other.file_, nullptr)) {}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  std::error_code ec;
  std::filesystem::remove(tmp_path_, ec);
}

absl::Status AtomicFileWriter::Append(absl::string_view bytes) {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat(path_.string(), ": writer is closed"));
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return absl::DataLossError(absl::StrCat(path_.string(), ": write failed (disk full?): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status AtomicFileWriter::Commit() {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat(path_.string(), ": writer is closed"));
  const bool closed_ok = std::fclose(std::exchange(file_, nullptr)) == 0;
  std::error_code ec;
  if (!closed_ok) {
    std::filesystem::remove(tmp_path_, ec);
    return absl::DataLossError(absl::StrCat(path_.string(), ": write failed (disk full?)"));
  }
  std::filesystem::rename(tmp_path_, path_, ec);
  if (ec) {
    std::filesystem::remove(tmp_path_, ec);
    return absl::InternalError(absl::StrCat(path_.string(), ": rename failed: ", ec.message()));
  }
  return absl::OkStatus();
}

Eigen::Vector3d ChooseOrigin(const Eigen::AlignedBox3d& bounds) {
  if (bounds.isEmpty()) return Eigen::Vector3d::Zero();
  const double max_abs = std::max(bounds.min().cwiseAbs().maxCoeff(), bounds.max().cwiseAbs().maxCoeff());
  if (!(max_abs > kMaxAbsCoordinateWithoutOrigin)) return Eigen::Vector3d::Zero();
  return bounds.center().array().round().matrix();
}

std::string ToLower(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<absl::string_view> SplitWhitespace(absl::string_view line) {
  std::vector<absl::string_view> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > begin) tokens.push_back(line.substr(begin, i - begin));
  }
  return tokens;
}

namespace {

template <typename T>
bool ParseWhole(absl::string_view token, T* value) {
  if (token.empty()) return false;
  // from_chars rejects a leading '+', which some writers emit.
  if (token.front() == '+' && token.size() > 1) token.remove_prefix(1);
  const char* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

bool ParseDouble(absl::string_view token, double* value) {
  if (ParseWhole(token, value)) return true;
  // from_chars does not accept "inf"/"nan" spelled by every writer (e.g.
  // "nan(ind)", "-nan"); PLY/PCD ascii files from some tools use them.
  const std::string lower = ToLower(token);
  if (lower == "nan" || lower == "-nan" || lower == "+nan" || lower == "nan(ind)" || lower == "-nan(ind)") {
    *value = std::nan("");
    return true;
  }
  return false;
}

bool ParseInt64(absl::string_view token, int64_t* value) { return ParseWhole(token, value); }
bool ParseUint64(absl::string_view token, uint64_t* value) { return ParseWhole(token, value); }

std::string FormatDoublePrecision17(double value) {
  char buffer[64];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general, 17);
  return std::string(buffer, ec == std::errc() ? ptr : buffer);
}

}  // namespace armap::io::internal
