#include "mapping/colmap/from_colmap.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/features/retrieval.h"
#include "core/io/colmap_model.h"
#include "core/logging.h"
#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/status.h"
#include "mapping/colmap/colmap_database.h"
#include "mapping/colmap/from_colmap_internal.h"
#include "mapping/colmap/image_metadata.h"

#ifndef ARMAP_VERSION
#define ARMAP_VERSION "unknown"
#endif

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kDim = 128;
// COLMAP puts the top-left pixel's centre at (0.5, 0.5); armap at (0, 0).
constexpr double kColmapPixelOffset = 0.5;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

uint64_t DirectorySize(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// NotFound naming the directory unless it holds cameras, images and
// points3D, all .bin or all .txt.
absl::Status CheckModelDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat(dir.string(), ": model directory not found"));
  for (const char* ext : {".bin", ".txt"}) {
    bool all = true;
    for (const char* stem : {"cameras", "images", "points3D"})
      all &= fs::is_regular_file(dir / (stem + std::string(ext)), ec);
    if (all) return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat(dir.string(), ": no COLMAP model (expected cameras, images and points3D, all .bin or all .txt)"));
}

// io::ToCamera keeps COLMAP's principal point, which is in COLMAP's pixel
// convention; armap's Camera wants it in armap's (core/camera.h). Both
// results (PINHOLE, OPENCV) hold cx, cy at params[2], params[3].
// FromColmapTest.ReprojectionHasNoHalfPixelBias fails if this and the
// points2D shift ever disagree.
absl::StatusOr<Camera> ToArmapCamera(const io::ColmapCamera& colmap_camera) {
  ARMAP_ASSIGN_OR_RETURN(Camera camera, io::ToCamera(colmap_camera));
  camera.params[2] -= kColmapPixelOffset;
  camera.params[3] -= kColmapPixelOffset;
  return camera;
}

// Keypoints bucketed on a grid for radius queries.
class KeypointGrid {
 public:
  KeypointGrid(const std::vector<features::Keypoint>& keypoints, int width, int height, double cell_px)
      : keypoints_(keypoints), cell_(cell_px) {
    cols_ = std::max(1, static_cast<int>(std::ceil((width + 1) / cell_)));
    rows_ = std::max(1, static_cast<int>(std::ceil((height + 1) / cell_)));
    std::vector<uint32_t> cell_of(keypoints.size());
    begin_.assign(static_cast<size_t>(cols_) * rows_ + 1, 0);
    for (size_t i = 0; i < keypoints.size(); ++i) {
      cell_of[i] = Cell(CellX(keypoints[i].x), CellY(keypoints[i].y));
      ++begin_[cell_of[i] + 1];
    }
    for (size_t c = 1; c < begin_.size(); ++c) begin_[c] += begin_[c - 1];
    items_.resize(keypoints.size());
    std::vector<uint32_t> fill(begin_.begin(), begin_.end() - 1);
    for (size_t i = 0; i < keypoints.size(); ++i) items_[fill[cell_of[i]]++] = static_cast<uint32_t>(i);
  }

  // Index of the nearest keypoint within radius_px (<= cell size), or -1.
  // Ties go to the lower index.
  int64_t Nearest(double x, double y, double radius_px) const {
    const int cx = CellX(static_cast<float>(x)), cy = CellY(static_cast<float>(y));
    int64_t best = -1;
    double best_d2 = radius_px * radius_px;
    for (int gy = std::max(0, cy - 1); gy <= std::min(rows_ - 1, cy + 1); ++gy) {
      for (int gx = std::max(0, cx - 1); gx <= std::min(cols_ - 1, cx + 1); ++gx) {
        const uint32_t c = Cell(gx, gy);
        for (uint32_t k = begin_[c]; k < begin_[c + 1]; ++k) {
          const uint32_t i = items_[k];
          const double dx = keypoints_[i].x - x, dy = keypoints_[i].y - y;
          const double d2 = dx * dx + dy * dy;
          if (d2 < best_d2 || (d2 == best_d2 && best >= 0 && i < best)) {
            best_d2 = d2;
            best = i;
          }
        }
      }
    }
    return best;
  }

 private:
  int CellX(float x) const { return std::clamp(static_cast<int>(std::floor((x + 0.5) / cell_)), 0, cols_ - 1); }
  int CellY(float y) const { return std::clamp(static_cast<int>(std::floor((y + 0.5) / cell_)), 0, rows_ - 1); }
  uint32_t Cell(int x, int y) const { return static_cast<uint32_t>(y) * cols_ + x; }

  const std::vector<features::Keypoint>& keypoints_;
  double cell_;
  int cols_ = 1, rows_ = 1;
  std::vector<uint32_t> begin_;
  std::vector<uint32_t> items_;
};

class Builder {
 public:
  Builder(const FromColmapRequest& request, const FromColmapOptions& options, const internal::UpstreamInfo& upstream)
      : request_(request), options_(options), upstream_(upstream) {}

  absl::StatusOr<OrderedJson> Run();

 private:
  absl::Status ReadModel();
  absl::Status OpenDescriptorSource();
  absl::Status ExtractAll();
  // Features of view v (from the database, or the extracted cache).
  absl::StatusOr<features::FeatureSet> ViewFeatures(size_t v) const;
  absl::Status CollectTrackDescriptors();
  absl::Status BuildLandmarks();
  absl::Status Georegister();
  absl::Status BuildRetrieval(const fs::path& dir);
  OrderedJson ReprojectionStats() const;
  template <typename F>
  absl::Status Stage(const std::string& name, F&& body) {
    const auto start = Clock::now();
    absl::Status status = body();
    stages_[name] = {{"seconds", Seconds(start)}};
    return status;
  }

  const FromColmapRequest& request_;
  const FromColmapOptions& options_;
  const internal::UpstreamInfo& upstream_;
  ColmapDescriptorNormalization normalization_ = ColmapDescriptorNormalization::kL1Root;

  io::ColmapModel model_;
  std::vector<const io::ColmapImage*> images_;  // view index -> model image
  std::unordered_map<uint32_t, size_t> view_of_image_;
  std::vector<map::MapView> views_;

  std::optional<ColmapDatabase> db_;
  std::vector<colmap_image_t> db_image_ids_;     // per view
  std::vector<features::FeatureSet> extracted_;  // per view (no database)

  // Descriptor of each (view, point2D) that belongs to a 3D point, or -1.
  std::vector<std::vector<int32_t>> slot_;
  std::vector<uint8_t> slot_descriptors_;
  int64_t keypoints_total_ = 0;
  int64_t track_observations_ = 0;
  int64_t observations_without_descriptor_ = 0;
  std::vector<float> l1_samples_;  // database descriptors: L1 of v = bytes / 512

  map::Landmarks landmarks_;
  int64_t landmarks_dropped_ = 0;
  GeoRegistration geo_;
  OrderedJson retrieval_summary_;
  OrderedJson stages_ = OrderedJson::object();
};

absl::Status Builder::ReadModel() {
  ARMAP_RETURN_IF_ERROR(CheckModelDir(request_.model_dir));
  ARMAP_ASSIGN_OR_RETURN(model_, io::ReadColmapModel(request_.model_dir));
  if (model_.images.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(request_.model_dir.string(), ": the COLMAP model has no registered images"));
  }
  for (const auto& [id, image] : model_.images) {
    const map::view_t v = static_cast<map::view_t>(views_.size());
    view_of_image_[id] = v;
    images_.push_back(&image);
    map::MapView view;
    view.id = v;
    view.name = image.name;
    view.source = image.name;
    auto camera = ToArmapCamera(model_.cameras.at(image.camera_id));
    if (!camera.ok()) {
      return Annotate(camera.status(), absl::StrCat(request_.model_dir.string(), ": image ", image.name));
    }
    view.camera = *std::move(camera);
    view.cam_from_world = image.cam_from_world;
    views_.push_back(std::move(view));
  }
  return absl::OkStatus();
}

absl::Status Builder::OpenDescriptorSource() {
  if (request_.database_path.empty()) {
    if (request_.images_dir.empty()) {
      return absl::InvalidArgumentError(
          "FromColmapRequest: without database_path, images_dir is needed to compute descriptors");
    }
    return ExtractAll();
  }
  ARMAP_ASSIGN_OR_RETURN(ColmapDatabase db, ColmapDatabase::Open(request_.database_path));
  ARMAP_ASSIGN_OR_RETURN(std::vector<ColmapDbImage> db_images, db.ReadImages());
  std::unordered_map<std::string, colmap_image_t> by_name;
  for (const ColmapDbImage& image : db_images) by_name[image.name] = image.image_id;
  for (size_t v = 0; v < images_.size(); ++v) {
    auto it = by_name.find(images_[v]->name);
    if (it == by_name.end()) {
      return absl::FailedPreconditionError(absl::StrCat(request_.database_path.string(), ": has no image '",
                                                        images_[v]->name, "' of the model in ",
                                                        request_.model_dir.string()));
    }
    db_image_ids_.push_back(it->second);
  }
  db_ = std::move(db);
  return absl::OkStatus();
}

absl::Status Builder::ExtractAll() {
  ARMAP_ASSIGN_OR_RETURN(std::unique_ptr<features::FeatureExtractor> extractor,
                         features::FeatureExtractor::Create(options_.features));
  extracted_.resize(images_.size());
  std::vector<absl::Status> status(images_.size());
  std::atomic<size_t> next{0};
  Progress progress("COLMAP photos: features", static_cast<long>(images_.size()));
  auto worker = [&] {
    for (size_t v = next++; v < images_.size(); v = next++) {
      const fs::path path = request_.images_dir / images_[v]->name;
      std::error_code ec;
      if (!fs::is_regular_file(path, ec)) {
        status[v] = absl::NotFoundError(
            absl::StrCat(path.string(), ": photo of model image '", images_[v]->name, "' not found"));
        continue;
      }
      // COLMAP ignores EXIF orientation; so must we, for points2D to line up.
      const cv::Mat gray = cv::imread(path.string(), cv::IMREAD_GRAYSCALE | cv::IMREAD_IGNORE_ORIENTATION);
      if (gray.empty()) {
        status[v] = absl::InvalidArgumentError(absl::StrCat(path.string(), ": cannot decode the photo"));
        continue;
      }
      const Camera& camera = views_[v].camera;
      if (gray.cols != camera.width || gray.rows != camera.height) {
        status[v] = absl::FailedPreconditionError(absl::StrCat(path.string(), ": photo is ", gray.cols, "x", gray.rows,
                                                               " but the model's camera is ", camera.width, "x",
                                                               camera.height));
        continue;
      }
      features::ImageView view;
      view.data = gray.data;
      view.width = gray.cols;
      view.height = gray.rows;
      view.channels = 1;
      view.stride_bytes = gray.step[0];
      auto set = extractor->Extract(view);
      if (!set.ok()) {
        status[v] = Annotate(set.status(), path.string());
        continue;
      }
      extracted_[v] = *std::move(set);
      progress.Add();
    }
  };
  const int threads = std::max(1, std::min<int>(options_.num_threads, static_cast<int>(images_.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  progress.Done();
  for (const absl::Status& s : status) ARMAP_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

absl::StatusOr<features::FeatureSet> Builder::ViewFeatures(size_t v) const {
  if (!db_) return extracted_[v];
  return db_->ReadFeatures(db_image_ids_[v], normalization_);
}

absl::Status Builder::CollectTrackDescriptors() {
  slot_.resize(images_.size());
  for (size_t v = 0; v < images_.size(); ++v) {
    const io::ColmapImage& image = *images_[v];
    ARMAP_ASSIGN_OR_RETURN(features::FeatureSet set, ViewFeatures(v));
    keypoints_total_ += static_cast<int64_t>(set.size());
    if (db_) {
      // The database must be the model's: one keypoint per points2D, same place.
      if (set.size() != image.points2D.size()) {
        return absl::FailedPreconditionError(
            absl::StrCat(request_.database_path.string(), ": image '", image.name, "' has ", set.size(),
                         " keypoints but the model in ", request_.model_dir.string(), " has ", image.points2D.size(),
                         " points2D; the database is not the one the model was built from"));
      }
      for (size_t i = 0; i < set.size(); ++i) {
        const double dx = set.keypoints[i].x - (image.points2D[i].x() - kColmapPixelOffset);
        const double dy = set.keypoints[i].y - (image.points2D[i].y() - kColmapPixelOffset);
        if (std::abs(dx) > 1e-2 || std::abs(dy) > 1e-2) {
          return absl::FailedPreconditionError(
              absl::StrCat(request_.database_path.string(), ": keypoint ", i, " of image '", image.name,
                           "' is not at the model's points2D (off by ", std::hypot(dx, dy),
                           " px); the database is not the one the model was built from"));
        }
      }
      // A sample for the normalisation sanity check (report).
      for (size_t i = 0; i < set.size() && l1_samples_.size() < 20000; i += 7) {
        float l1 = 0;
        for (int c = 0; c < kDim; ++c) l1 += set.descriptor(i)[c];
        l1_samples_.push_back(l1 / 512.0f);
      }
    }
    std::unique_ptr<KeypointGrid> grid;
    if (!db_)
      grid = std::make_unique<KeypointGrid>(set.keypoints, views_[v].camera.width, views_[v].camera.height,
                                            std::max(1.0, options_.max_keypoint_distance_px));
    slot_[v].assign(image.points2D.size(), -1);
    for (size_t i = 0; i < image.points2D.size(); ++i) {
      if (image.point3D_ids[i] == io::kInvalidPoint3DId) continue;
      ++track_observations_;
      int64_t k = static_cast<int64_t>(i);
      if (grid) {
        k = grid->Nearest(image.points2D[i].x() - kColmapPixelOffset, image.points2D[i].y() - kColmapPixelOffset,
                          options_.max_keypoint_distance_px);
      }
      if (k < 0) {
        ++observations_without_descriptor_;
        continue;
      }
      slot_[v][i] = static_cast<int32_t>(slot_descriptors_.size() / kDim);
      slot_descriptors_.insert(slot_descriptors_.end(), set.descriptor(static_cast<size_t>(k)),
                               set.descriptor(static_cast<size_t>(k)) + kDim);
    }
  }
  return absl::OkStatus();
}

absl::Status Builder::BuildLandmarks() {
  std::vector<map::view_t> views;
  std::vector<Eigen::Vector2f> pixels;
  std::vector<const uint8_t*> descs;
  std::vector<float> mean(kDim);
  for (const auto& [id, point] : model_.points3D) {
    views.clear();
    pixels.clear();
    descs.clear();
    for (const auto& [image_id, point2D_idx] : point.track) {
      auto it = view_of_image_.find(image_id);
      if (it == view_of_image_.end()) continue;  // checked by the reader; be safe
      const size_t v = it->second;
      if (point2D_idx >= slot_[v].size()) continue;
      const int32_t s = slot_[v][point2D_idx];
      if (s < 0) continue;
      const Eigen::Vector2d& p = images_[v]->points2D[point2D_idx];
      views.push_back(static_cast<map::view_t>(v));
      pixels.emplace_back(static_cast<float>(p.x() - kColmapPixelOffset),
                          static_cast<float>(p.y() - kColmapPixelOffset));
      descs.push_back(slot_descriptors_.data() + static_cast<size_t>(s) * kDim);
    }
    if (descs.empty() || !point.xyz.allFinite()) {
      ++landmarks_dropped_;
      continue;
    }
    // Representative descriptor: the observation closest to the mean.
    std::fill(mean.begin(), mean.end(), 0.0f);
    for (const uint8_t* d : descs) {
      for (int c = 0; c < kDim; ++c) mean[c] += d[c];
    }
    for (float& m : mean) m /= static_cast<float>(descs.size());
    size_t best = 0;
    double best_dist = 1e300;
    for (size_t j = 0; j < descs.size(); ++j) {
      double dist = 0;
      for (int c = 0; c < kDim; ++c) dist += (descs[j][c] - mean[c]) * (descs[j][c] - mean[c]);
      if (dist < best_dist) {
        best_dist = dist;
        best = j;
      }
    }
    landmarks_.Add(point.xyz, descs[best], views, pixels);
  }
  return landmarks_.Validate(views_.size());
}

absl::Status Builder::Georegister() {
  std::vector<GpsCorrespondence> gps;
  std::vector<bool> has_altitude;
  std::vector<Rigid3d> cams;
  for (const map::MapView& view : views_) cams.push_back(view.cam_from_world);
  if (request_.images_dir.empty()) {
    geo_.reason = "no images_dir: EXIF GPS not read";
    return absl::OkStatus();
  }
  for (size_t v = 0; v < views_.size(); ++v) {
    const fs::path path = request_.images_dir / images_[v]->name;
    auto meta = ReadImageMetadata(path);
    if (!meta.ok()) {
      // The photo is only needed for its GPS here; missing photos must not
      // fail a map built from a database.
      ARMAP_LOG_WARN("{}: {}", path.string(), meta.status().message());
      continue;
    }
    if (!meta->gps) continue;
    gps.push_back({images_[v]->name, CameraCenter(views_[v].cam_from_world), *meta->gps});
    has_altitude.push_back(meta->gps_has_altitude);
  }
  geo_ = EstimateGeoRegistration(gps, has_altitude, cams, options_.georegistration);
  if (!geo_.registered) {
    ARMAP_LOG_INFO("COLMAP map kept in the model's frame: {}", geo_.reason);
    return absl::OkStatus();
  }
  ARMAP_LOG_INFO("COLMAP map geo-registered from {} GPS photos: scale {:.4g}, rms residual {:.2f} m",
                 geo_.images_with_gps, geo_.map_from_model.scale, geo_.rms_residual_m);
  for (map::MapView& view : views_) {
    view.cam_from_world = geo_.map_from_model.TransformCamFromWorld(view.cam_from_world);
  }
  for (Eigen::Vector3d& x : landmarks_.positions) x = geo_.map_from_model * x;
  return absl::OkStatus();
}

absl::Status Builder::BuildRetrieval(const fs::path& dir) {
  // Training set: every s-th descriptor of every view, so that at most
  // max_training_descriptors are held at once (Train subsamples again).
  const int64_t total = keypoints_total_;
  const int64_t stride = std::max<int64_t>(1, (total + options_.retrieval.max_training_descriptors - 1) /
                                                  std::max(1, options_.retrieval.max_training_descriptors));
  features::FeatureSet training;
  training.dim = kDim;
  for (size_t v = 0; v < views_.size(); ++v) {
    ARMAP_ASSIGN_OR_RETURN(features::FeatureSet set, ViewFeatures(v));
    std::vector<size_t> keep;
    for (size_t i = 0; i < set.size(); i += static_cast<size_t>(stride)) keep.push_back(i);
    training.Append(set.Subset(keep));
  }
  features::VladOptions vlad = options_.retrieval;
  vlad.num_clusters = static_cast<int>(std::max<int64_t>(
      1,
      std::min<int64_t>(options_.retrieval.num_clusters, total / std::max(1, options_.min_descriptors_per_cluster))));
  if (training.size() < static_cast<size_t>(vlad.num_clusters)) {
    return absl::FailedPreconditionError(absl::StrCat("only ", training.size(), " descriptors in the ", views_.size(),
                                                      " registered images: too few to train a retrieval codebook"));
  }
  ARMAP_ASSIGN_OR_RETURN(features::VladCodebook codebook, features::VladCodebook::Train({&training}, vlad));
  training = features::FeatureSet();
  std::vector<std::vector<float>> descriptors;
  for (size_t v = 0; v < views_.size(); ++v) {
    ARMAP_ASSIGN_OR_RETURN(features::FeatureSet set, ViewFeatures(v));
    descriptors.push_back(codebook.Encode(set));
  }
  ARMAP_ASSIGN_OR_RETURN(features::RetrievalIndex index,
                         features::RetrievalIndex::Build(codebook.descriptor_size(), descriptors));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir.string(), ": cannot create: ", ec.message()));
  ARMAP_RETURN_IF_ERROR(codebook.Save(dir / "codebook.bin"));
  ARMAP_RETURN_IF_ERROR(index.Save(dir / "index.faiss"));
  retrieval_summary_ = {{"views", views_.size()},
                        {"clusters", codebook.num_clusters()},
                        {"descriptor_size", codebook.descriptor_size()},
                        {"training_descriptors", total / stride}};
  return absl::OkStatus();
}

OrderedJson Builder::ReprojectionStats() const {
  std::vector<double> errors;
  Eigen::Vector2d bias = Eigen::Vector2d::Zero();
  for (size_t i = 0; i < landmarks_.size(); ++i) {
    for (uint32_t o = landmarks_.obs_begin[i]; o < landmarks_.obs_begin[i + 1]; ++o) {
      const map::MapView& view = views_[landmarks_.obs_view[o]];
      Eigen::Vector2d pixel;
      if (!view.camera.Project(view.cam_from_world * landmarks_.positions[i], &pixel)) continue;
      const Eigen::Vector2d r = pixel - landmarks_.obs_pixel[o].cast<double>();
      errors.push_back(r.norm());
      bias += r;
    }
  }
  if (!errors.empty()) bias /= static_cast<double>(errors.size());
  return OrderedJson{{"observations", errors.size()},
                     {"median_px", Percentile(errors, 0.5)},
                     {"p90_px", Percentile(errors, 0.9)},
                     {"mean_dx_px", bias.x()},
                     {"mean_dy_px", bias.y()}};
}

absl::StatusOr<OrderedJson> Builder::Run() {
  ARMAP_RETURN_IF_ERROR(options_.Validate());
  if (request_.model_dir.empty()) return absl::InvalidArgumentError("FromColmapRequest::model_dir is empty");
  if (request_.out_dir.empty()) return absl::InvalidArgumentError("FromColmapRequest::out_dir is empty");
  ARMAP_ASSIGN_OR_RETURN(normalization_,
                         ParseColmapDescriptorNormalization(options_.database_descriptor_normalization));
  // Fail early on an existing package, before any work.
  ARMAP_ASSIGN_OR_RETURN(map::PackageWriter writer, map::PackageWriter::Begin(request_.out_dir, request_.overwrite));
  const fs::path staging = writer.staging_dir();

  for (const auto& [name, s] : upstream_.stages.items()) stages_[name] = s;
  ARMAP_RETURN_IF_ERROR(Stage("read_model", [&] { return ReadModel(); }));
  ARMAP_RETURN_IF_ERROR(Stage("descriptors", [&] {
    ARMAP_RETURN_IF_ERROR(OpenDescriptorSource());
    return CollectTrackDescriptors();
  }));
  ARMAP_RETURN_IF_ERROR(Stage("landmarks", [&] { return BuildLandmarks(); }));
  ARMAP_RETURN_IF_ERROR(Stage("georegistration", [&] { return Georegister(); }));
  ARMAP_RETURN_IF_ERROR(Stage("retrieval", [&] { return BuildRetrieval(staging / "retrieval"); }));

  const auto package_start = Clock::now();
  ARMAP_RETURN_IF_ERROR(map::WriteViews(staging / "views.json", views_));
  ARMAP_RETURN_IF_ERROR(map::WriteLandmarks(staging / "landmarks.bin", landmarks_));

  const std::string map_id = !request_.map_id.empty()
                                 ? request_.map_id
                                 : fs::absolute(request_.out_dir).lexically_normal().filename().string();
  OrderedJson config;
  config["source"] = "colmap";
  config["request"] = {
      {"model_dir", fs::absolute(request_.model_dir).string()},
      {"database_path", request_.database_path.empty() ? "" : fs::absolute(request_.database_path).string()},
      {"images_dir", request_.images_dir.empty() ? "" : fs::absolute(request_.images_dir).string()},
      {"map_id", map_id}};
  config["options"] = options_.ToJson();
  if (!upstream_.config.is_null()) config["colmap"] = upstream_.config;
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging / "config.json", config));

  map::Manifest manifest;
  manifest.map_id = map_id;
  manifest.map_version = options_.map_version;
  manifest.created_by = std::string("armap ") + ARMAP_VERSION;
  if (geo_.registered) manifest.origin = geo_.origin;  // else 0,0,0: see report.georegistration.note
  Eigen::AlignedBox3d box;
  for (const auto& x : landmarks_.positions) box.extend(x);
  for (const auto& v : views_) box.extend(CameraCenter(v.cam_from_world));
  manifest.bbox_min_m = box.min();
  manifest.bbox_max_m = box.max();
  manifest.counts = {{"views", static_cast<int64_t>(views_.size())},
                     {"landmarks", static_cast<int64_t>(landmarks_.size())},
                     {"observations", static_cast<int64_t>(landmarks_.num_observations())}};

  OrderedJson report;
  report["armap_version"] = ARMAP_VERSION;
  report["map_id"] = map_id;
  report["map_version"] = options_.map_version;
  report["source"] = config["request"];
  report["source"]["kind"] = "colmap";
  int64_t model_observations = 0;
  for (const auto& [id, p] : model_.points3D) model_observations += static_cast<int64_t>(p.track.size());
  report["counts"] = {
      {"views", views_.size()},
      {"landmarks", landmarks_.size()},
      {"observations", landmarks_.num_observations()},
      {"model_images", model_.images.size()},
      {"model_points3D", model_.points3D.size()},
      {"model_observations", model_observations},
      {"landmarks_dropped", landmarks_dropped_},
      {"observations_dropped", model_observations - static_cast<int64_t>(landmarks_.num_observations())},
      {"keypoints", keypoints_total_}};
  OrderedJson desc;
  if (db_) {
    desc["source"] = "database";
    desc["database_normalization"] = ColmapDescriptorNormalizationName(normalization_);
    // RootSIFT stored by COLMAP has a median L1 norm (of bytes / 512) near
    // 8.8, L2 SIFT near 6.7 (measured on lund_door): a value on the wrong
    // side of 7.7 means the normalisation option is probably wrong.
    const double median_l1 = Percentile(std::vector<double>(l1_samples_.begin(), l1_samples_.end()), 0.5);
    desc["median_l1"] = median_l1;
    const bool looks_root = median_l1 > 7.7;
    if (!l1_samples_.empty() && looks_root != (normalization_ == ColmapDescriptorNormalization::kL1Root)) {
      desc["warning"] = absl::StrCat("median L1 ", median_l1, " suggests '", looks_root ? "l1_root" : "l2",
                                     "' descriptors; check database_descriptor_normalization");
      ARMAP_LOG_WARN("{}: {}", request_.database_path.string(), desc["warning"].get<std::string>());
    }
  } else {
    desc["source"] = "extracted";
    desc["max_keypoint_distance_px"] = options_.max_keypoint_distance_px;
    desc["track_observations"] = track_observations_;
    desc["observations_without_keypoint"] = observations_without_descriptor_;
  }
  report["descriptors"] = desc;
  report["reprojection"] = ReprojectionStats();
  report["georegistration"] = geo_.ToJson();
  report["retrieval"] = retrieval_summary_;
  if (!upstream_.report.is_null()) report["colmap"] = upstream_.report;
  stages_["package"] = {{"seconds", Seconds(package_start)}};
  report["stages"] = stages_;
  const uint64_t index_bytes =
      fs::file_size(staging / "retrieval" / "index.faiss") + fs::file_size(staging / "retrieval" / "codebook.bin");
  const uint64_t total_bytes = DirectorySize(staging);
  report["size_bytes"] = {
      {"total", total_bytes},
      {"descriptors", landmarks_.descriptors.size()},
      {"index", index_bytes},
      {"per_1000_landmarks", landmarks_.size() ? 1000.0 * static_cast<double>(total_bytes) / landmarks_.size() : 0.0}};
  double seconds_total = 0;
  for (const auto& [name, s] : stages_.items()) seconds_total += s["seconds"].get<double>();
  report["seconds_total"] = seconds_total;
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging / "report.json", report));
  ARMAP_RETURN_IF_ERROR(writer.Commit(manifest));
  return report;
}

}  // namespace

absl::Status FromColmapOptions::Validate() const {
  ARMAP_RETURN_IF_ERROR(ParseColmapDescriptorNormalization(database_descriptor_normalization).status());
  ARMAP_RETURN_IF_ERROR(features.Validate());
  if (features.type != "rootsift") {
    return absl::InvalidArgumentError(absl::StrCat("FromColmapOptions::features.type = '", features.type,
                                                   "'; map landmarks hold RootSIFT, so it must be 'rootsift'"));
  }
  ARMAP_RETURN_IF_ERROR(retrieval.Validate());
  ARMAP_RETURN_IF_ERROR(georegistration.Validate());
  if (!(max_keypoint_distance_px > 0) || !std::isfinite(max_keypoint_distance_px)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FromColmapOptions::max_keypoint_distance_px = ", max_keypoint_distance_px, "; must be finite and > 0"));
  }
  if (min_descriptors_per_cluster < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FromColmapOptions::min_descriptors_per_cluster = ", min_descriptors_per_cluster, "; must be >= 1"));
  }
  if (num_threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("FromColmapOptions::num_threads = ", num_threads, "; must be >= 1"));
  }
  if (map_version < 1) {
    return absl::InvalidArgumentError(absl::StrCat("FromColmapOptions::map_version = ", map_version, "; must be >= 1"));
  }
  return absl::OkStatus();
}

OrderedJson FromColmapOptions::ToJson() const {
  return OrderedJson{{"map_version", map_version},
                     {"database_descriptor_normalization", database_descriptor_normalization},
                     {"features",
                      {{"type", features.type},
                       {"max_features", features.max_features},
                       {"contrast_threshold", features.contrast_threshold},
                       {"edge_threshold", features.edge_threshold},
                       {"octave_layers", features.octave_layers}}},
                     {"max_keypoint_distance_px", max_keypoint_distance_px},
                     {"retrieval",
                      {{"num_clusters", retrieval.num_clusters},
                       {"kmeans_iterations", retrieval.kmeans_iterations},
                       {"max_training_descriptors", retrieval.max_training_descriptors},
                       {"seed", retrieval.seed}}},
                     {"min_descriptors_per_cluster", min_descriptors_per_cluster},
                     {"georegistration", georegistration.ToJson()},
                     {"num_threads", num_threads}};
}

namespace internal {
absl::StatusOr<OrderedJson> BuildMapFromColmap(const FromColmapRequest& request, const FromColmapOptions& options,
                                               const UpstreamInfo& upstream) {
  Builder builder(request, options, upstream);
  return builder.Run();
}
}  // namespace internal

absl::StatusOr<OrderedJson> BuildMapFromColmap(const FromColmapRequest& request, const FromColmapOptions& options) {
  return internal::BuildMapFromColmap(request, options, internal::UpstreamInfo{});
}

}  // namespace armap::mapping
