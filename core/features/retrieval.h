// Exact retrieval over global descriptors (e.g. VLAD) by inner product,
// which is cosine similarity for unit vectors. FAISS IndexFlatIP behind a
// pimpl: a few thousand views per map tile need no approximate index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace armap::features {

class RetrievalIndex {
 public:
  struct Result {
    uint32_t id = 0;  // position of the descriptor given to Build()
    float score = 0;  // inner product
  };

  // Ids are positions in `descriptors`; each must have descriptor_size
  // entries (InvalidArgument naming the offending position otherwise).
  [[nodiscard]] static absl::StatusOr<RetrievalIndex> Build(int descriptor_size,
                                                            const std::vector<std::vector<float>>& descriptors);

  RetrievalIndex();
  RetrievalIndex(RetrievalIndex&&) noexcept;
  RetrievalIndex& operator=(RetrievalIndex&&) noexcept;
  RetrievalIndex(const RetrievalIndex&) = delete;
  RetrievalIndex& operator=(const RetrievalIndex&) = delete;
  ~RetrievalIndex();

  // The top min(k, candidates) ids by decreasing score (equal scores: lower
  // id first). `allowed` (optional) restricts the search to those ids (e.g.
  // views near a GPS prior; out-of-range ids and repeats are ignored);
  // nullptr searches all. Thread-safe. A query whose size is not
  // descriptor_size(), or k <= 0, gives no results.
  [[nodiscard]] std::vector<Result> Search(const std::vector<float>& query, int k,
                                           const std::vector<uint32_t>* allowed = nullptr) const;

  size_t size() const;
  int descriptor_size() const;

  // FAISS's own format (faiss::write_index), written atomically.
  [[nodiscard]] absl::Status Save(const std::filesystem::path& path) const;
  // faiss::read_index; errors name the file (NotFound, or DataLoss for a
  // truncated/corrupted file or one that holds another index type).
  [[nodiscard]] static absl::StatusOr<RetrievalIndex> Load(const std::filesystem::path& path);

 private:
  struct Impl;
  explicit RetrievalIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::features
