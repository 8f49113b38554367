// sift_bench IMAGE...: our SIFT (core/features/sift.h) against OpenCV's on
// one thread, per image: ms per extraction for each, the ratio, keypoint
// counts, and how well the two agree: the fraction of mutual nearest
// neighbours between our and OpenCV's RootSIFT descriptors (of the smaller
// set), and the fraction of those at the same place (< 0.5 px, 10% scale).
//
//   sift_bench --max-size 640 out/demo/city/queries/q00*.jpg
//   sift_bench --max-size 0 --json /tmp/sift/views.json views/pano_0022/*.jpg
//
// Images are downscaled (INTER_AREA) so that the longer side is at most
// --max-size, as the localizer does with its queries.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/features/extractor.h"
#include "core/features/sift.h"

namespace {

using armap::features::FeatureExtractor;
using armap::features::FeatureSet;

struct Timed {
  FeatureSet features;
  double ms = 0;  // thread CPU time, median over the repeats
};

// CPU time of this thread: the machine is shared, wall time is not ours.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

bool Run(const FeatureExtractor& extractor, const cv::Mat& gray, int repeat, Timed* out) {
  const armap::features::ImageView view{gray.data, gray.cols, gray.rows, 1, gray.step[0]};
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) {
    const double t0 = ThreadCpuMs();
    auto features = extractor.Extract(view);
    ms.push_back(ThreadCpuMs() - t0);
    if (!features.ok()) {
      std::fprintf(stderr, "extraction failed: %s\n", std::string(features.status().message()).c_str());
      return false;
    }
    out->features = *std::move(features);
  }
  std::sort(ms.begin(), ms.end());
  out->ms = ms[ms.size() / 2];
  return true;
}

// Index of the nearest row of b for each row of a (squared L2 on uint8).
std::vector<int> NearestRows(const FeatureSet& a, const FeatureSet& b) {
  std::vector<int> nn(a.size(), -1);
  for (size_t i = 0; i < a.size(); ++i) {
    const uint8_t* p = a.descriptor(i);
    int32_t best = INT32_MAX;
    for (size_t j = 0; j < b.size(); ++j) {
      const uint8_t* q = b.descriptor(j);
      int32_t d = 0;
      for (int k = 0; k < 128; ++k) {
        const int32_t e = int32_t{p[k]} - int32_t{q[k]};
        d += e * e;
      }
      if (d < best) {
        best = d;
        nn[i] = static_cast<int>(j);
      }
    }
  }
  return nn;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Our SIFT against OpenCV's, one thread"};
  std::vector<std::string> images;
  int max_size = 640;
  int repeat = 3;
  int max_features = 2000;
  std::string json_path;
  bool ours_only = false;
  app.add_option("images", images, "image files")->required();
  app.add_option("--max-size", max_size, "downscale so the longer side is at most this (0: as is)");
  app.add_option("--repeat", repeat, "extractions per image and implementation (median reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-features", max_features, "ExtractorOptions::max_features")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "write the table as JSON here");
  app.add_flag("--ours-only", ours_only, "time ours alone (no OpenCV run, no comparison): for profiling");
  CLI11_PARSE(app, argc, argv);
  cv::setNumThreads(1);

  armap::features::ExtractorOptions options;
  options.max_features = max_features;
  options.implementation = "armap";
  auto ours = FeatureExtractor::Create(options);
  options.implementation = "opencv";
  auto theirs = FeatureExtractor::Create(options);
  if (!ours.ok() || !theirs.ok()) return 1;

  nlohmann::json rows = nlohmann::json::array();
  std::printf("%-28s %9s %8s %8s %6s %6s %6s %7s %7s\n", "image", "size", "armap_ms", "cv_ms", "ratio", "n_ours",
              "n_cv", "mutual", "same_px");
  double sum_ours = 0, sum_cv = 0, sum_mutual = 0, sum_same = 0;
  double stages[4] = {0, 0, 0, 0};
  double sum_rank = 0;
  int num_with_features = 0;  // pyramid, extrema, orientation, descriptor
  for (const std::string& path : images) {
    cv::Mat gray = cv::imread(path, cv::IMREAD_GRAYSCALE);
    if (gray.empty()) {
      std::fprintf(stderr, "%s: cannot read\n", path.c_str());
      return 1;
    }
    const int max_side = std::max(gray.cols, gray.rows);
    if (max_size > 0 && max_side > max_size) {
      const double s = static_cast<double>(max_size) / max_side;
      cv::Mat small;
      cv::resize(gray, small,
                 cv::Size(std::max(1, static_cast<int>(std::lround(gray.cols * s))),
                          std::max(1, static_cast<int>(std::lround(gray.rows * s)))),
                 0, 0, cv::INTER_AREA);
      gray = small;
    }
    // Our stages, from one more run of the raw detector.
    armap::features::internal::SiftOutput raw;
    armap::features::internal::SiftOptions raw_options;
    raw_options.max_features = max_features;
    if (!armap::features::internal::DetectAndDescribeSift(gray.data, gray.cols, gray.rows, gray.step[0], nullptr,
                                                          raw_options, &raw)
             .ok()) {
      return 1;
    }
    stages[0] += raw.pyramid_ms;
    stages[1] += raw.extrema_ms;
    stages[2] += raw.orientation_ms;
    stages[3] += raw.descriptor_ms;
    Timed a, b;
    if (ours_only) {
      if (!Run(**ours, gray, repeat, &a)) return 1;
      std::printf("%-28s %4dx%-4d %8.1f %6zu\n", path.size() > 28 ? path.substr(path.size() - 28).c_str() : path.c_str(),
                  gray.cols, gray.rows, a.ms, a.features.size());
      sum_ours += a.ms;
      continue;
    }
    if (!Run(**theirs, gray, repeat, &b) || !Run(**ours, gray, repeat, &a)) return 1;
    // Mutual nearest neighbours in descriptor space, then whether they are
    // the same keypoint.
    const std::vector<int> ab = NearestRows(a.features, b.features), ba = NearestRows(b.features, a.features);
    int mutual = 0, same = 0;
    for (size_t i = 0; i < ab.size(); ++i) {
      if (ab[i] < 0 || ba[ab[i]] != static_cast<int>(i)) continue;
      ++mutual;
      const auto& p = a.features.keypoints[i];
      const auto& q = b.features.keypoints[ab[i]];
      if (std::hypot(p.x - q.x, p.y - q.y) < 0.5f && std::abs(p.scale - q.scale) < 0.1f * q.scale) ++same;
    }
    const size_t denom = std::max<size_t>(1, std::min(a.features.size(), b.features.size()));
    // The same keypoint at the same rank (order matters to RANSAC sampling).
    int same_rank = 0;
    for (size_t i = 0; i < std::min(a.features.size(), b.features.size()); ++i) {
      const auto& p = a.features.keypoints[i];
      const auto& q = b.features.keypoints[i];
      if (std::hypot(p.x - q.x, p.y - q.y) < 0.01f && std::abs(p.orientation_rad - q.orientation_rad) < 1e-3f) {
        ++same_rank;
      }
    }
    const double same_rank_frac = static_cast<double>(same_rank) / denom;
    sum_rank += same_rank_frac;
    const double mutual_frac = static_cast<double>(mutual) / denom;
    const double same_frac = mutual > 0 ? static_cast<double>(same) / mutual : 0.0;
    const std::string name = path.size() > 28 ? path.substr(path.size() - 28) : path;
    std::printf("%-28s %4dx%-4d %8.1f %8.1f %6.2f %6zu %6zu %7.3f %7.3f\n", name.c_str(), gray.cols, gray.rows, a.ms,
                b.ms, a.ms / b.ms, a.features.size(), b.features.size(), mutual_frac, same_frac);
    sum_ours += a.ms;
    sum_cv += b.ms;
    if (a.features.size() > 0 && b.features.size() > 0) {  // agreement over images with features
      sum_mutual += mutual_frac;
      sum_same += same_frac;
      ++num_with_features;
    }
    rows.push_back({{"image", path},
                    {"width", gray.cols},
                    {"height", gray.rows},
                    {"armap_ms", a.ms},
                    {"opencv_ms", b.ms},
                    {"ratio", a.ms / b.ms},
                    {"armap_keypoints", a.features.size()},
                    {"opencv_keypoints", b.features.size()},
                    {"mutual_nn_fraction", mutual_frac},
                    {"mutual_nn_same_place_fraction", same_frac},
                    {"same_rank_fraction", same_rank_frac}});
  }
  const double n = static_cast<double>(images.size());
  if (ours_only) {
    std::printf("mean: armap %.1f ms\n", sum_ours / n);
    std::printf("armap stages (mean ms): pyramid %.1f, extrema %.1f, orientation %.1f, descriptors %.1f\n",
                stages[0] / n, stages[1] / n, stages[2] / n, stages[3] / n);
    return 0;
  }
  const double nf = std::max(1, num_with_features);
  std::printf("mean: armap %.1f ms, opencv %.1f ms, ratio %.2f, mutual NN %.3f, same place %.3f\n", sum_ours / n,
              sum_cv / n, sum_ours / sum_cv, sum_mutual / nf, sum_same / nf);
  std::printf("same keypoint at the same rank: %.3f\n", sum_rank / nf);
  std::printf("armap stages (mean ms): pyramid %.1f, extrema %.1f, orientation %.1f, descriptors %.1f\n",
              stages[0] / n, stages[1] / n, stages[2] / n, stages[3] / n);
  if (!json_path.empty()) {
    const nlohmann::json doc = {{"images", rows},
                                {"mean_armap_ms", sum_ours / n},
                                {"mean_opencv_ms", sum_cv / n},
                                {"ratio", sum_ours / sum_cv},
                                {"mean_mutual_nn_fraction", sum_mutual / nf},
                                {"mean_mutual_nn_same_place_fraction", sum_same / nf},
                                {"mean_same_rank_fraction", sum_rank / nf},
                                {"armap_stages_ms",
                                 {{"pyramid", stages[0] / n},
                                  {"extrema", stages[1] / n},
                                  {"orientation", stages[2] / n},
                                  {"descriptors", stages[3] / n}}}};
    std::ofstream(json_path) << doc.dump(2) << "\n";
  }
  return 0;
}
