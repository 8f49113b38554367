// Hold-out localization benchmark on a real COLMAP model (bench/lund_door_holdout.sh).
//
//   colmap_holdout prepare MODEL_DIR IMAGES_DIR WORK_DIR NAME [NAME ...]
//     Writes into WORK_DIR:
//       model/{cameras,images,points3D}.txt  the reference model without the
//           held-out images: their observations leave every track, and points
//           left with fewer than 2 observations are dropped;
//       queries.json  the held-out photos (absolute paths) with the reference
//           camera's intrinsics in armap's pixel convention (COLMAP's
//           principal point - 0.5, as `map from-colmap` does for the views);
//       gt.json       their reference cam_from_world, localizable;
//       holdout.json  the held-out names, model counts and the scene extent.
//   colmap_holdout report WORK_DIR EVAL_JSON MAP_DIR OUT_JSON MAX_FRACTION MAX_ROT_DEG
//     Per-query position error (model units), rotation error (degrees) and
//     position error / scene extent from `armap eval localize --json`;
//     prints a markdown table, writes OUT_JSON, exits 1 when a held-out
//     photo failed or an error is above the tolerance.
//
// Scene extent: the diagonal of the bounding box of the reference model's 3D
// points after clipping 1% of the points at each end of each axis (a few
// far-away points triangulated at grazing angles would otherwise set it).
// The largest distance between two reference camera centres is reported too.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/camera.h"
#include "core/io/colmap_model.h"
#include "core/json.h"
#include "core/pose_json.h"
#include "core/rigid3.h"

namespace {

using namespace armap;
namespace fs = std::filesystem;

int Fail(const std::string& message) {
  std::fprintf(stderr, "colmap_holdout: %s\n", message.c_str());
  return 1;
}

// Value at fraction q of the sorted values (nearest rank).
double SortedQuantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::lround(q * static_cast<double>(v.size() - 1))));
  return v[i];
}

int Prepare(const fs::path& model_dir, const fs::path& images_dir, const fs::path& work,
            const std::vector<std::string>& holdout_names) {
  auto model = io::ReadColmapModel(model_dir);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  const io::ColmapModel& ref = *model;

  std::set<uint32_t> held_ids;
  for (const std::string& name : holdout_names) {
    bool found = false;
    for (const auto& [id, image] : ref.images) {
      if (image.name == name) {
        held_ids.insert(id);
        found = true;
      }
    }
    if (!found) return Fail("image '" + name + "' is not in " + model_dir.string());
  }

  // Scene extent from the full reference model.
  std::vector<double> axis[3];
  for (const auto& [id, p] : ref.points3D) {
    for (int k = 0; k < 3; ++k) axis[k].push_back(p.xyz[k]);
  }
  if (axis[0].empty()) return Fail("the model has no 3D points");
  Eigen::Vector3d lo, hi;
  for (int k = 0; k < 3; ++k) {
    lo[k] = SortedQuantile(axis[k], 0.01);
    hi[k] = SortedQuantile(axis[k], 0.99);
  }
  const double extent = (hi - lo).norm();
  std::vector<Eigen::Vector3d> centres;
  for (const auto& [id, image] : ref.images) centres.push_back(CameraCenter(image.cam_from_world));
  double max_baseline = 0;
  for (size_t i = 0; i < centres.size(); ++i) {
    for (size_t j = i + 1; j < centres.size(); ++j) max_baseline = std::max(max_baseline, (centres[i] - centres[j]).norm());
  }

  // The model without the held-out images.
  io::ColmapModel reduced;
  reduced.cameras = ref.cameras;
  for (const auto& [id, image] : ref.images) {
    if (!held_ids.count(id)) reduced.images[id] = image;
  }
  size_t dropped_points = 0, removed_observations = 0;
  std::set<uint64_t> kept_points;
  for (const auto& [id, p] : ref.points3D) {
    io::ColmapPoint3D q = p;
    q.track.clear();
    for (const auto& obs : p.track) {
      if (held_ids.count(obs.first)) {
        ++removed_observations;
      } else {
        q.track.push_back(obs);
      }
    }
    if (q.track.size() < 2) {
      ++dropped_points;
      continue;
    }
    kept_points.insert(id);
    reduced.points3D[id] = std::move(q);
  }
  // 2D points of the kept images that referred to a dropped 3D point become
  // untriangulated.
  for (auto& [id, image] : reduced.images) {
    for (uint64_t& pid : image.point3D_ids) {
      if (pid != io::kInvalidPoint3DId && !kept_points.count(pid)) pid = io::kInvalidPoint3DId;
    }
  }
  std::error_code ec;
  fs::create_directories(work, ec);
  if (const absl::Status s = io::WriteColmapModelText(reduced, work / "model"); !s.ok()) return Fail(std::string(s.message()));

  OrderedJson queries = OrderedJson::array(), truth = OrderedJson::array();
  for (uint32_t id : held_ids) {
    const io::ColmapImage& image = ref.images.at(id);
    auto camera = io::ToCamera(ref.cameras.at(image.camera_id));
    if (!camera.ok()) return Fail(std::string(camera.status().message()));
    // COLMAP puts the top-left pixel's centre at (0.5, 0.5), armap at (0, 0).
    camera->params[2] -= 0.5;
    camera->params[3] -= 0.5;
    queries.push_back({{"name", image.name},
                       {"image", fs::absolute(images_dir / image.name).lexically_normal().string()},
                       {"camera", {{"model", camera->ModelName()}, {"width", camera->width},
                                   {"height", camera->height}, {"params", camera->params}}}});
    truth.push_back({{"name", image.name}, {"cam_from_world", PoseToJson(image.cam_from_world)}, {"localizable", true}});
  }
  OrderedJson meta{{"reference_model", fs::absolute(model_dir).lexically_normal().string()},
                   {"held_out", holdout_names},
                   {"reference", {{"images", ref.images.size()}, {"points3D", ref.points3D.size()}}},
                   {"map_model", {{"images", reduced.images.size()}, {"points3D", reduced.points3D.size()},
                                  {"dropped_points", dropped_points}, {"removed_observations", removed_observations}}},
                   {"extent", {{"definition", "diagonal of the bounding box of the reference 3D points, 1% clipped per axis"},
                               {"value", extent},
                               {"bbox_min", {lo.x(), lo.y(), lo.z()}},
                               {"bbox_max", {hi.x(), hi.y(), hi.z()}},
                               {"max_camera_baseline", max_baseline}}}};
  for (const auto& [file, value] : std::vector<std::pair<std::string, OrderedJson>>{
           {"queries.json", OrderedJson{{"queries", queries}}},
           {"gt.json", OrderedJson{{"queries", truth}}},
           {"holdout.json", meta}}) {
    if (const absl::Status s = WriteJsonFile(work / file, value); !s.ok()) return Fail(std::string(s.message()));
  }
  std::printf("held out: %s; map model: %zu images, %zu points (%zu dropped with < 2 observations left)\n",
              [&] {
                std::string s;
                for (const auto& n : holdout_names) s += (s.empty() ? "" : ", ") + n;
                return s;
              }().c_str(),
              reduced.images.size(), reduced.points3D.size(), dropped_points);
  std::printf("scene extent: %.4f model units (1%%-clipped point bbox diagonal); largest camera baseline %.4f\n", extent,
              max_baseline);
  return 0;
}

int Report(const fs::path& work, const fs::path& eval_path, const fs::path& map_dir, const fs::path& out_path,
           double max_fraction, double max_rot_deg) {
  auto meta = ReadJsonFile(work / "holdout.json");
  auto eval = ReadJsonFile(eval_path);
  auto map_report = ReadJsonFile(map_dir / "report.json");
  for (const absl::Status& s : {meta.status(), eval.status(), map_report.status()}) {
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  // The errors are in model units only if the map kept the model's frame.
  const std::string geo = map_report->value(Json::json_pointer("/georegistration/method"), std::string("?"));
  if (geo != "none") return Fail("the map was georegistered (" + geo + "): its frame is not the reference model's");
  const double extent = (*meta)["extent"]["value"].get<double>();
  bool ok = true;
  OrderedJson rows = OrderedJson::array();
  std::printf("\n| held-out photo | localized | inliers | position error (model units) | / scene extent | rotation error (deg) |\n"
              "|---|---|---|---|---|---|\n");
  for (const Json& q : (*eval)["queries"]) {
    const bool success = q["success"].get<bool>();
    const double pos = q["pos_err_m"].get<double>(), rot = q["rot_err_deg"].get<double>();
    const double fraction = pos / extent;
    const bool pass = success && fraction <= max_fraction && rot <= max_rot_deg;
    ok &= pass;
    const std::string name = q["name"].get<std::string>();
    if (success) {
      std::printf("| %s | yes | %d | %.4f | %.3f%% | %.3f |\n", name.c_str(), q["inliers"].get<int>(), pos, 100 * fraction, rot);
    } else {
      std::printf("| %s | no: %s | %d | - | - | - |\n", name.c_str(), q["failure_reason"].get<std::string>().c_str(),
                  q["inliers"].get<int>());
    }
    // A failed query has no pose: its errors are null.
    const OrderedJson pos_j = success ? OrderedJson(pos) : OrderedJson(nullptr);
    const OrderedJson fraction_j = success ? OrderedJson(fraction) : OrderedJson(nullptr);
    const OrderedJson rot_j = success ? OrderedJson(rot) : OrderedJson(nullptr);
    rows.push_back({{"name", name}, {"success", success}, {"failure_reason", q["failure_reason"]},
                    {"inliers", q["inliers"]}, {"confidence", q["confidence"]}, {"pos_err_model_units", pos_j},
                    {"pos_err_fraction_of_extent", fraction_j}, {"rot_err_deg", rot_j}, {"latency_ms", q["latency_ms"]},
                    {"pass", pass}});
  }
  if (rows.size() != (*meta)["held_out"].size()) {
    ok = false;
    std::printf("expected %zu queries, evaluated %zu\n", (*meta)["held_out"].size(), rows.size());
  }
  std::printf("\nscene extent %.4f model units (%s); tolerance: position <= %.2f%% of the extent, rotation <= %.2f deg: %s\n",
              extent, (*meta)["extent"]["definition"].get<std::string>().c_str(), 100 * max_fraction, max_rot_deg,
              ok ? "PASS" : "FAIL");
  OrderedJson out{{"benchmark", "lund_door_holdout"},
                  {"held_out", (*meta)["held_out"]},
                  {"map_model", (*meta)["map_model"]},
                  {"map", {{"views", (*map_report)["counts"]["views"]}, {"landmarks", (*map_report)["counts"]["landmarks"]}}},
                  {"extent", (*meta)["extent"]},
                  {"tolerance", {{"max_pos_err_fraction_of_extent", max_fraction}, {"max_rot_err_deg", max_rot_deg}}},
                  {"queries", rows},
                  {"latency_ms", (*eval)["latency_ms"]},
                  {"pass", ok}};
  if (const absl::Status s = WriteJsonFile(out_path, out); !s.ok()) return Fail(std::string(s.message()));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: colmap_holdout prepare MODEL_DIR IMAGES_DIR WORK_DIR NAME [NAME ...]\n"
      "       colmap_holdout report WORK_DIR EVAL_JSON MAP_DIR OUT_JSON MAX_FRACTION MAX_ROT_DEG\n";
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "prepare" && argc >= 6) {
    return Prepare(argv[2], argv[3], argv[4], std::vector<std::string>(argv + 5, argv + argc));
  }
  if (command == "report" && argc == 8) {
    return Report(argv[2], argv[3], argv[4], argv[5], std::atof(argv[6]), std::atof(argv[7]));
  }
  std::fprintf(stderr, "%s", usage.c_str());
  return 2;
}
