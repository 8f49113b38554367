#include "core/features/retrieval.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <faiss/IndexFlat.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include "absl/strings/str_cat.h"
#include "core/files.h"
#include "core/status.h"

namespace armap::features {
namespace {

// The layout faiss::write_index gives an IndexFlatIP (FAISS 1.7.x): fourcc
// "IxFI", d (int32), ntotal (int64), two unused int64, is_trained (bool),
// metric_type (int32; no metric_arg for inner product), then the vectors as
// a float vector: count (uint64) and count floats. Checking the sizes before
// read_index turns a corrupted count into an error instead of a huge
// allocation.
constexpr size_t kFlatIpHeaderBytes = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8;

absl::Status CheckFlatIpLayout(const std::string& data, const std::string& name) {
  if (data.size() < kFlatIpHeaderBytes || std::memcmp(data.data(), "IxFI", 4) != 0) {
    return absl::DataLossError(
        absl::StrCat(name, ": not a FAISS IndexFlatIP file (bad fourcc or shorter than its header)"));
  }
  int32_t d = 0;
  int64_t ntotal = 0;
  uint64_t count = 0;
  std::memcpy(&d, data.data() + 4, sizeof(d));
  std::memcpy(&ntotal, data.data() + 8, sizeof(ntotal));
  std::memcpy(&count, data.data() + kFlatIpHeaderBytes - 8, sizeof(count));
  if (d <= 0 || ntotal < 0 || ntotal > (int64_t{1} << 32) ||
      count != static_cast<uint64_t>(ntotal) * static_cast<uint64_t>(d)) {
    return absl::DataLossError(absl::StrCat(name, ": corrupted FAISS IndexFlatIP header (d = ", d,
                                            ", ntotal = ", ntotal, ", ", count, " floats)"));
  }
  const uint64_t expected = kFlatIpHeaderBytes + count * sizeof(float);
  if (data.size() != expected) {
    return absl::DataLossError(absl::StrCat(name, ": FAISS index is ", data.size(), " bytes; expected ", expected,
                                            data.size() < expected ? " (truncated)" : " (trailing data)"));
  }
  return absl::OkStatus();
}

// Reads from a string without copying it (faiss::VectorIOReader would).
struct StringIOReader : faiss::IOReader {
  explicit StringIOReader(const std::string& d) : data(d) {}
  size_t operator()(void* ptr, size_t size, size_t nitems) override {
    if (size == 0 || pos >= data.size()) return 0;
    const size_t n = std::min(nitems, (data.size() - pos) / size);
    std::memcpy(ptr, data.data() + pos, n * size);
    pos += n * size;
    return n;
  }
  const std::string& data;
  size_t pos = 0;
};

}  // namespace

struct RetrievalIndex::Impl {
  explicit Impl(std::unique_ptr<faiss::IndexFlatIP> i) : index(std::move(i)) {}
  std::unique_ptr<faiss::IndexFlatIP> index;
};

RetrievalIndex::RetrievalIndex() = default;
RetrievalIndex::RetrievalIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RetrievalIndex::RetrievalIndex(RetrievalIndex&&) noexcept = default;
RetrievalIndex& RetrievalIndex::operator=(RetrievalIndex&&) noexcept = default;
RetrievalIndex::~RetrievalIndex() = default;

absl::StatusOr<RetrievalIndex> RetrievalIndex::Build(int descriptor_size,
                                                     const std::vector<std::vector<float>>& descriptors) {
  if (descriptor_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("RetrievalIndex: descriptor_size = ", descriptor_size, "; must be > 0"));
  }
  if (descriptors.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("RetrievalIndex: too many descriptors for uint32 ids");
  }
  std::vector<float> flat;
  flat.reserve(descriptors.size() * static_cast<size_t>(descriptor_size));
  for (size_t i = 0; i < descriptors.size(); ++i) {
    if (descriptors[i].size() != static_cast<size_t>(descriptor_size)) {
      return absl::InvalidArgumentError(absl::StrCat("RetrievalIndex: descriptor ", i, " has ", descriptors[i].size(),
                                                     " values; expected ", descriptor_size));
    }
    flat.insert(flat.end(), descriptors[i].begin(), descriptors[i].end());
  }
  try {
    auto index = std::make_unique<faiss::IndexFlatIP>(descriptor_size);
    if (!descriptors.empty()) index->add(static_cast<faiss::Index::idx_t>(descriptors.size()), flat.data());
    return RetrievalIndex(std::make_unique<Impl>(std::move(index)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("RetrievalIndex: FAISS add failed: ", e.what()));
  }
}

std::vector<RetrievalIndex::Result> RetrievalIndex::Search(const std::vector<float>& query, int k,
                                                           const std::vector<uint32_t>* allowed) const {
  std::vector<Result> results;
  if (!impl_ || k <= 0 || query.size() != static_cast<size_t>(impl_->index->d)) return results;
  const faiss::Index::idx_t n = impl_->index->ntotal;
  if (n == 0) return results;

  std::vector<faiss::Index::idx_t> subset;
  if (allowed != nullptr) {
    for (uint32_t id : *allowed) {
      if (static_cast<faiss::Index::idx_t>(id) < n) subset.push_back(id);
    }
    std::sort(subset.begin(), subset.end());
    subset.erase(std::unique(subset.begin(), subset.end()), subset.end());
    if (subset.empty()) return results;
  }
  const faiss::Index::idx_t candidates = allowed != nullptr ? static_cast<faiss::Index::idx_t>(subset.size()) : n;
  const faiss::Index::idx_t kk = std::min<faiss::Index::idx_t>(k, candidates);
  std::vector<float> scores(kk);
  std::vector<faiss::Index::idx_t> labels(kk, -1);
  try {
    if (allowed != nullptr) {
      // One query takes FAISS's sequential path either way, so restricted
      // and unrestricted searches compute identical scores.
      faiss::IDSelectorBatch selector(subset.size(), subset.data());
      faiss::SearchParameters params;
      params.sel = &selector;
      impl_->index->search(1, query.data(), kk, scores.data(), labels.data(), &params);
    } else {
      impl_->index->search(1, query.data(), kk, scores.data(), labels.data());
    }
  } catch (const std::exception&) {
    return {};
  }
  for (faiss::Index::idx_t i = 0; i < kk; ++i) {
    if (labels[i] < 0) continue;
    results.push_back({static_cast<uint32_t>(labels[i]), scores[i]});
  }
  // FAISS's heap does not order equal scores; make the order total.
  std::stable_sort(results.begin(), results.end(), [](const Result& a, const Result& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  return results;
}

size_t RetrievalIndex::size() const { return impl_ ? static_cast<size_t>(impl_->index->ntotal) : 0; }

int RetrievalIndex::descriptor_size() const { return impl_ ? impl_->index->d : 0; }

absl::Status RetrievalIndex::Save(const std::filesystem::path& path) const {
  if (!impl_)
    return absl::FailedPreconditionError(absl::StrCat(path.string(), ": RetrievalIndex is empty (moved-from)"));
  faiss::VectorIOWriter writer;
  try {
    faiss::write_index(impl_->index.get(), &writer);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(path.string(), ": FAISS write_index failed: ", e.what()));
  }
  return WriteFileAtomic(path, std::string_view(reinterpret_cast<const char*>(writer.data.data()), writer.data.size()));
}

absl::StatusOr<RetrievalIndex> RetrievalIndex::Load(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(const std::string data, ReadFileToString(path));
  const std::string name = path.string();
  ARMAP_RETURN_IF_ERROR(CheckFlatIpLayout(data, name));
  StringIOReader reader(data);
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&reader));
  } catch (const std::exception& e) {
    // FAISS messages are multi-line with source locations; keep the first line.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return absl::DataLossError(absl::StrCat(name, ": not a readable FAISS index (truncated or corrupted): ", what));
  }
  auto* flat = dynamic_cast<faiss::IndexFlatIP*>(index.get());
  if (flat == nullptr) {
    return absl::DataLossError(absl::StrCat(name, ": holds a FAISS index that is not IndexFlatIP"));
  }
  if (reader.pos != data.size()) {
    return absl::DataLossError(
        absl::StrCat(name, ": ", data.size() - reader.pos, " trailing bytes after the FAISS index (corrupted)"));
  }
  index.release();
  return RetrievalIndex(std::make_unique<Impl>(std::unique_ptr<faiss::IndexFlatIP>(flat)));
}

}  // namespace armap::features
