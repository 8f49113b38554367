#include "datasets/synthetic/capture_generator.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/io/ply.h"
#include "core/io/trajectory.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/pose_json.h"
#include "core/random.h"
#include "core/status.h"
#include "datasets/synthetic/preview.h"
#include "datasets/synthetic/render.h"

namespace armap::synth {
namespace {

using Vec3 = Eigen::Vector3d;
using Clock = std::chrono::steady_clock;

enum Stream : uint64_t { kPanoExposure = 20, kPoseNoise, kQueries, kQueryRender, kLidarNoise };

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Rig frame: z forward along the heading, x right, y down.
Eigen::Quaterniond RigRotation(const Eigen::Vector2d& heading, double pitch_rad, double roll_rad) {
  const Vec3 f(heading.x(), heading.y(), 0), right(heading.y(), -heading.x(), 0), down(0, 0, -1);
  Eigen::Matrix3d world_r_rig;
  world_r_rig << right, down, f;
  // Small attitude: pitch about the rig x axis, roll about its z axis.
  const Eigen::Matrix3d attitude = (Eigen::AngleAxisd(pitch_rad, Vec3::UnitX()) * Eigen::AngleAxisd(roll_rad, Vec3::UnitZ())).toRotationMatrix();
  return Eigen::Quaterniond(world_r_rig * attitude);
}

// Camera looking along (yaw, pitch, roll) in the world: yaw from east towards
// north (math convention), pitch up positive, roll about the optical axis.
Eigen::Quaterniond WorldFromCamRotation(double yaw_rad, double pitch_rad, double roll_rad) {
  const Vec3 f(std::cos(pitch_rad) * std::cos(yaw_rad), std::cos(pitch_rad) * std::sin(yaw_rad), std::sin(pitch_rad));
  const Vec3 right = f.cross(Vec3::UnitZ()).normalized();
  const Vec3 down = f.cross(right).normalized();
  Eigen::Matrix3d r;
  r << right, down, f;
  return Eigen::Quaterniond(r * Eigen::AngleAxisd(roll_rad, Vec3::UnitZ()).toRotationMatrix());
}

Eigen::Quaterniond SmallRotation(const Vec3& rotation_vector_rad) {
  const double angle = rotation_vector_rad.norm();
  if (angle < 1e-15) return Eigen::Quaterniond::Identity();
  return Eigen::Quaterniond(Eigen::AngleAxisd(angle, rotation_vector_rad / angle));
}

OrderedJson LonLat(const EnuFrame& frame, const Eigen::Vector2d& xy) {
  const GeoPoint g = frame.Wgs84FromEnu(Vec3(xy.x(), xy.y(), 0));
  return OrderedJson::array({g.lon_deg, g.lat_deg});
}

OrderedJson Ring(const EnuFrame& frame, const std::vector<Eigen::Vector2d>& polygon) {
  OrderedJson ring = OrderedJson::array();
  for (const auto& p : polygon) ring.push_back(LonLat(frame, p));
  ring.push_back(LonLat(frame, polygon.front()));  // RFC 7946: closed rings
  return ring;
}

OrderedJson FeatureCollection(OrderedJson features) {
  return OrderedJson{{"type", "FeatureCollection"}, {"features", std::move(features)}};
}

OrderedJson BuildingsGeoJson(const City& city, const EnuFrame& frame) {
  OrderedJson features = OrderedJson::array();
  for (const Building& b : city.buildings) {
    OrderedJson parts = OrderedJson::array();
    for (const BuildingPart& p : b.parts) {
      parts.push_back({{"height_m", p.top_m}, {"polygon", OrderedJson::array({Ring(frame, p.polygon)})}});
    }
    OrderedJson footprint_enu = OrderedJson::array();
    for (const auto& p : b.footprint) footprint_enu.push_back({p.x(), p.y()});
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Polygon"}, {"coordinates", OrderedJson::array({Ring(frame, b.footprint)})}}},
                        {"properties",
                         {{"id", b.id},
                          {"shape", b.shape},
                          {"height_m", b.height_m},
                          {"lod", b.IsLod2() ? 2 : 1},
                          {"roof_parts", parts},
                          {"footprint_enu", footprint_enu}}}});
  }
  return FeatureCollection(std::move(features));
}

OrderedJson RoadsGeoJson(const City& city, const EnuFrame& frame) {
  OrderedJson features = OrderedJson::array();
  const double h = city.half_size_m;
  for (const Street& s : city.streets) {
    const Eigen::Vector2d a = s.along_x ? Eigen::Vector2d(-h, s.position_m) : Eigen::Vector2d(s.position_m, -h);
    const Eigen::Vector2d b = s.along_x ? Eigen::Vector2d(h, s.position_m) : Eigen::Vector2d(s.position_m, h);
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "LineString"}, {"coordinates", {LonLat(frame, a), LonLat(frame, b)}}}},
                        {"properties",
                         {{"kind", "road"}, {"id", s.id}, {"name", s.name}, {"width_m", 2 * s.road_half_width_m},
                          {"sidewalk_width_m", s.sidewalk_width_m}}}});
  }
  std::vector<int> degree(city.walk_nodes.size(), 0);
  for (const WalkEdge& e : city.walk_edges) {
    degree[e.from]++;
    degree[e.to]++;
    const auto& a = city.walk_nodes[e.from].position;
    const auto& b = city.walk_nodes[e.to].position;
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "LineString"}, {"coordinates", {LonLat(frame, a), LonLat(frame, b)}}}},
                        {"properties",
                         {{"kind", e.kind}, {"id", e.id}, {"from", e.from}, {"to", e.to}, {"width_m", e.width_m},
                          {"length_m", (b - a).norm()}}}});
  }
  for (const WalkNode& n : city.walk_nodes) {
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Point"}, {"coordinates", LonLat(frame, n.position)}}},
                        {"properties", {{"kind", "walk_node"}, {"id", n.id}, {"degree", degree[n.id]},
                                        {"x_m", n.position.x()}, {"y_m", n.position.y()}}}});
  }
  return FeatureCollection(std::move(features));
}

OrderedJson PoisGeoJson(const City& city, const EnuFrame& frame) {
  OrderedJson features = OrderedJson::array();
  for (const Sign& s : city.signs) {
    const GeoPoint g = frame.Wgs84FromEnu(s.centre);
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Point"}, {"coordinates", {g.lon_deg, g.lat_deg, g.alt_m}}}},
                        {"properties",
                         {{"id", s.id}, {"name", s.name_zh}, {"name_en", s.name_en}, {"category", s.category},
                          {"building_id", s.building_id}, {"position_enu", {s.centre.x(), s.centre.y(), s.centre.z()}},
                          {"sign_width_m", s.width_m}, {"sign_height_m", s.height_m}}}});
  }
  return FeatureCollection(std::move(features));
}

struct QueryTruth {
  std::string name;
  std::string kind;  // facade, street, sky, blank_wall
  bool localizable = true;
  bool occluded = false;
  Camera camera;
  Rigid3d cam_from_world;
  RenderOptions render;
  ExtraGeometry extra;
  GeoPoint prior;
  double prior_error_m = 0;
  Vec3 gravity_in_cam;
};

// Samples a pedestrian photo near the mapped route.
QueryTruth SampleQuery(const City& city, const Scene& scene, const CaptureOptions& o, int index, double route_length_m) {
  Rng rng(o.city.seed, kQueries, static_cast<uint64_t>(index));
  QueryTruth q;
  q.name = absl::StrFormat("q%04d", index);
  const double u = rng.Uniform();
  const bool unlocalizable = u < o.unlocalizable_fraction;
  q.kind = unlocalizable ? (rng.Bernoulli(0.5) ? "sky" : "blank_wall") : (rng.Bernoulli(0.65) ? "facade" : "street");
  q.localizable = !unlocalizable;
  // Intrinsics: a phone's main camera, 60-70 deg horizontal FOV, mild distortion.
  const int w = o.query_width_px, h = o.query_height_px;
  const double hfov = rng.Uniform(60.0, 70.0) * M_PI / 180;
  const double fx = 0.5 * w / std::tan(0.5 * hfov);
  q.camera = *Camera::Create("OPENCV", w, h,
                             {fx, fx * rng.Uniform(0.998, 1.002), 0.5 * w - 0.5 + rng.Uniform(-8, 8),
                              0.5 * h - 0.5 + rng.Uniform(-8, 8), rng.Uniform(-0.12, 0.03), rng.Uniform(-0.02, 0.05),
                              rng.Uniform(-0.001, 0.001), rng.Uniform(-0.001, 0.001)});
  Eigen::Quaterniond world_r_cam;
  Vec3 position;
  for (int attempt = 0; attempt < 50; ++attempt) {
    Eigen::Vector2d on_route, heading;
    city.route.Sample(rng.Uniform(0, route_length_m), &on_route, &heading);
    const Street* street = city.StreetAt(on_route);
    if (!street) continue;
    const int side = rng.Bernoulli(0.5) ? 1 : -1;
    const double across = side * (street->road_half_width_m + street->sidewalk_width_m * rng.Uniform(0.3, 0.85));
    const double along = street->along_x ? on_route.x() : on_route.y();
    const Eigen::Vector2d xy = street->along_x ? Eigen::Vector2d(along, street->position_m + across)
                                               : Eigen::Vector2d(street->position_m + across, along);
    position = Vec3(xy.x(), xy.y(), rng.Uniform(1.2, 1.8));
    const Eigen::Vector2d outward = street->along_x ? Eigen::Vector2d(0, side) : Eigen::Vector2d(side, 0);
    const Eigen::Vector2d along_dir = street->along_x ? Eigen::Vector2d(rng.Bernoulli(0.5) ? 1 : -1, 0)
                                                      : Eigen::Vector2d(0, rng.Bernoulli(0.5) ? 1 : -1);
    double yaw, pitch;
    if (q.kind == "facade") {
      // Mostly the facades across the street (the whole shop front in view),
      // sometimes the near side at an oblique angle.
      const bool across_street = rng.Bernoulli(0.7);
      const Eigen::Vector2d look = across_street ? Eigen::Vector2d(-outward) : Eigen::Vector2d((outward + along_dir).normalized());
      yaw = std::atan2(look.y(), look.x()) + rng.Uniform(-35, 35) * M_PI / 180;
      pitch = rng.Uniform(across_street ? 3 : 0, 20) * M_PI / 180;
    } else if (q.kind == "blank_wall") {
      yaw = std::atan2(outward.y(), outward.x()) + rng.Uniform(-20, 20) * M_PI / 180;
      pitch = rng.Uniform(-5, 5) * M_PI / 180;
    } else if (q.kind == "street") {
      const Eigen::Vector2d d = (along_dir + 0.35 * outward * rng.Uniform(-1, 1)).normalized();
      yaw = std::atan2(d.y(), d.x());
      pitch = rng.Uniform(-4, 10) * M_PI / 180;
    } else {
      yaw = rng.Uniform(0, 2 * M_PI);
      pitch = rng.Uniform(72, 85) * M_PI / 180;
    }
    world_r_cam = WorldFromCamRotation(yaw, pitch, rng.Uniform(-4, 4) * M_PI / 180);
    // Reject poses inside clutter or with a wall right in front (for localizable ones).
    SceneHit hit;
    const Vec3 forward = world_r_cam * Vec3::UnitZ();
    const bool blocked = scene.Trace(position, forward, 3.0, &hit) && hit.kind != SurfaceKind::kGround;
    if (!q.localizable || !blocked) break;
  }
  q.cam_from_world = Rigid3d(world_r_cam, position).Inverse();
  const Vec3 forward = world_r_cam * Vec3::UnitZ();
  const Vec3 right = world_r_cam * Vec3::UnitX();
  if (q.kind == "blank_wall") {
    Surface panel;
    panel.kind = SurfaceKind::kPanel;
    panel.rgb = Vec3(0.62, 0.6, 0.56) * rng.Uniform(0.8, 1.1);
    const double yaw = std::atan2(forward.y(), forward.x());
    q.extra.AddBox(position + forward * 0.5, Vec3(0.02, 2.5, 2.5), yaw, panel);
  } else if (q.localizable && rng.Bernoulli(0.2)) {
    // A passer-by partly in view.
    q.occluded = true;
    Surface person;
    person.kind = SurfaceKind::kPerson;
    person.rgb = Vec3(rng.Uniform(0.05, 0.5), rng.Uniform(0.05, 0.4), rng.Uniform(0.05, 0.4));
    const double dist = rng.Uniform(2.0, 4.0);
    Vec3 c = position + forward * dist + right * rng.Uniform(-0.35, 0.35) * dist;
    c.z() = 0.85;
    const double yaw = std::atan2(forward.y(), forward.x());
    q.extra.AddBox(c, Vec3(0.15, 0.25, 0.85), yaw, person);
    q.extra.AddBox(Vec3(c.x(), c.y(), 1.82), Vec3(0.1, 0.1, 0.12), yaw, person);
  }
  q.render.exposure = rng.Uniform(0.6, 1.5);
  q.render.white_balance = Vec3(rng.Uniform(0.92, 1.08), 1.0, rng.Uniform(0.92, 1.08));
  q.render.noise_sigma = rng.Uniform(2.0, 5.0) / 255.0;
  q.render.lens_blur_sigma_px = rng.Uniform(0.2, 0.5);
  if (rng.Bernoulli(0.3)) {
    q.render.motion_blur_px = rng.Uniform(2.0, 8.0);
    q.render.motion_blur_angle_rad = rng.Uniform(0, M_PI);
  }
  q.render.noise_seed = HashCombine(o.city.seed, 3000 + index);
  // GPS prior: sigma 10 m (radial), with 30 m outliers; altitude sigma 5 m.
  const EnuFrame frame(o.city.origin);
  const bool outlier = rng.Bernoulli(0.08);
  Vec3 error(rng.Normal() * 10 / std::sqrt(2.0), rng.Normal() * 10 / std::sqrt(2.0), rng.Normal() * 5);
  if (outlier) {
    const double a = rng.Uniform(0, 2 * M_PI);
    error.head<2>() = 30.0 * Eigen::Vector2d(std::cos(a), std::sin(a));
  }
  q.prior = frame.Wgs84FromEnu(position + error);
  q.prior_error_m = error.head<2>().norm();
  // Gravity (down) in the camera frame, as a phone's accelerometer reports it, 0.3 deg noise.
  const Vec3 g = q.cam_from_world.rotation * Vec3(0, 0, -1);
  q.gravity_in_cam = SmallRotation(Vec3(rng.Normal(), rng.Normal(), rng.Normal()) * (0.3 * M_PI / 180 / std::sqrt(3.0))) * g;
  return q;
}

}  // namespace

OrderedJson CaptureSummaryJson(const CaptureSummary& s) {
  OrderedJson stages = OrderedJson::object();
  for (const auto& [k, v] : s.stage_seconds) stages[k] = v;
  return OrderedJson{
      {"seed", s.seed},
      {"size_m", s.size_m},
      {"counts", {{"buildings", s.num_buildings}, {"signs", s.num_signs}, {"panos", s.num_panos},
                  {"queries", s.num_queries}, {"lidar_points", s.num_lidar_points}, {"triangles", s.num_triangles}}},
      {"route_length_m", s.route_length_m},
      {"photo_sources", s.photo_sources},
      {"stages_seconds", stages},
      {"seconds_per_pano", s.seconds_per_pano},
      {"pano_size", {s.pano_width_px, s.pano_height_px}},
      {"seconds_per_query", s.seconds_per_query},
      {"query_size", {s.query_width_px, s.query_height_px}},
      {"total_seconds", s.total_seconds}};
}

std::filesystem::path DefaultPhotoRoot() {
  if (const char* env = std::getenv("ARMAP_DATASETS")) return env;
  // The binary lives at <project>/build/bin/armap; shared/ sits beside the project.
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto dir = exe.parent_path(); dir.has_parent_path() && dir != dir.root_path(); dir = dir.parent_path()) {
      const auto candidate = dir.parent_path() / "shared" / "datasets";
      if (std::filesystem::is_directory(candidate, ec)) return candidate;
    }
  }
  return std::filesystem::current_path(ec) / ".." / "shared" / "datasets";
}

absl::Status CaptureOptions::Validate() const {
  ARMAP_RETURN_IF_ERROR(city.Validate());
  ARMAP_RETURN_IF_ERROR(lidar.Validate());
  if (out_dir.empty()) return absl::InvalidArgumentError("CaptureOptions::out_dir is empty");
  if (num_panos < 2 || num_panos > 10000) return absl::InvalidArgumentError(absl::StrCat("--panos = ", num_panos, "; must be in [2, 10000]"));
  if (num_queries < 0 || num_queries > 100000) return absl::InvalidArgumentError(absl::StrCat("--queries = ", num_queries, "; must be in [0, 100000]"));
  if (pano_width_px < 64 || pano_width_px > 8192 || pano_width_px % 2) {
    return absl::InvalidArgumentError(absl::StrCat("--pano-width = ", pano_width_px, "; must be even and in [64, 8192]"));
  }
  if (query_width_px < 64 || query_height_px < 48 || query_width_px > 8192 || query_height_px > 8192) {
    return absl::InvalidArgumentError(absl::StrCat("query size ", query_width_px, "x", query_height_px, " is out of range"));
  }
  if (!(vehicle_speed_mps > 0.5 && vehicle_speed_mps < 30)) return absl::InvalidArgumentError("vehicle_speed_mps must be in (0.5, 30)");
  if (!(unlocalizable_fraction >= 0 && unlocalizable_fraction <= 1)) return absl::InvalidArgumentError("unlocalizable_fraction must be in [0, 1]");
  if (jpeg_quality < 50 || jpeg_quality > 100) return absl::InvalidArgumentError("jpeg_quality must be in [50, 100]");
  return absl::OkStatus();
}

absl::StatusOr<CaptureSummary> GenerateCapture(const CaptureOptions& o) {
  ARMAP_RETURN_IF_ERROR(o.Validate());
  const auto start = Clock::now();
  CaptureSummary summary;
  std::error_code ec;
  const std::filesystem::path out = std::filesystem::absolute(o.out_dir, ec);
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_empty(out, ec) && !o.overwrite) {
    return absl::AlreadyExistsError(absl::StrCat(out.string(), ": output folder exists and is not empty (use --overwrite)"));
  }
  ARMAP_RETURN_IF_ERROR(EnsureWritableDirectory(out.parent_path()));
  // Everything goes to a sibling temp folder, renamed into place at the end:
  // an interrupted run never leaves a half-written capture behind.
  const std::filesystem::path tmp = out.parent_path() / absl::StrCat(".", out.filename().string(), ".partial-", getpid());
  std::filesystem::remove_all(tmp, ec);
  for (const char* sub : {"panos", "lidar", "queries", "gt"}) ARMAP_RETURN_IF_ERROR(EnsureWritableDirectory(tmp / sub));
  struct Cleanup {
    std::filesystem::path dir;
    bool armed = true;
    ~Cleanup() { if (armed) { std::error_code e; std::filesystem::remove_all(dir, e); } }
  } cleanup{tmp};

  auto t0 = Clock::now();
  const City city = GenerateCity(o.city);
  const Scene scene(city);
  ARMAP_ASSIGN_OR_RETURN(std::unique_ptr<Appearance> appearance, Appearance::Create(scene, o.photo_root));
  const Renderer renderer(scene, *appearance);
  summary.stage_seconds["world"] = Seconds(t0);
  summary.num_buildings = static_cast<int>(city.buildings.size());
  summary.num_signs = static_cast<int>(city.signs.size());
  summary.route_length_m = city.route.LengthM();
  ARMAP_LOG_INFO("city: {} buildings, {} signs, {} triangles, route {:.0f} m; facade detail from {} photos",
                 city.buildings.size(), city.signs.size(), scene.num_triangles(), summary.route_length_m,
                 appearance->patches().sources().size());

  // True rig motion: smooth heading, gentle pitch/roll from the road.
  const double length = summary.route_length_m;
  const double duration_s = length / o.vehicle_speed_mps;
  auto world_from_rig = [&](double t) {
    const double s = t * o.vehicle_speed_mps;
    Eigen::Vector2d p, h0, h1, unused;
    city.route.Sample(s, &p, &unused);
    city.route.Sample(s - 1.0, &unused, &h0);
    city.route.Sample(s + 1.0, &unused, &h1);
    const Eigen::Vector2d heading = (h0 + h1).normalized();
    const double pitch = 0.4 * M_PI / 180 * std::sin(s * 0.05 + 1.0);
    const double roll = 0.3 * M_PI / 180 * std::sin(s * 0.071 + 2.0);
    return Rigid3d(RigRotation(heading, pitch, roll), Vec3(p.x(), p.y(), o.rig_height_m));
  };

  // Panorama stations, evenly along the route.
  t0 = Clock::now();
  std::vector<io::PoseStamped> measured_poses, true_poses;
  Rng exposure_rng(o.city.seed, kPanoExposure), noise_rng(o.city.seed, kPoseNoise);
  const double spacing = city.route.closed ? length / o.num_panos : (length - 4.0) / (o.num_panos - 1);
  if (spacing < 5.0 || spacing > 10.0) {
    ARMAP_LOG_WARN("panorama spacing is {:.1f} m (crews capture every 5-10 m); route is {:.0f} m for {} panoramas",
                   spacing, length, o.num_panos);
  }
  const Camera pano_camera = Camera::Equirectangular(o.pano_width_px, o.pano_width_px / 2);
  const double drift_phase = noise_rng.Uniform(0, 2 * M_PI);
  {
    Progress progress("panoramas", o.num_panos);
    for (int i = 0; i < o.num_panos; ++i) {
      const double s = city.route.closed ? (i + 0.5) * spacing : 2.0 + i * spacing;
      const double t = s / o.vehicle_speed_mps;
      const Rigid3d truth = world_from_rig(t);
      const std::string name = absl::StrFormat("pano_%04d", i);
      // Measured pose: white noise plus a slow drift along the route.
      const double phase = 2 * M_PI * s / std::max(100.0, length) + drift_phase;
      const Vec3 drift_pos = o.drift_m * Vec3(std::sin(phase), std::cos(0.7 * phase), 0.3 * std::sin(1.3 * phase));
      const Vec3 drift_rot = o.drift_deg * M_PI / 180 * Vec3(0.3 * std::sin(phase), 0.3 * std::cos(phase), std::sin(0.5 * phase + 1));
      const double sp = o.pose_noise_m / std::sqrt(3.0), sr = o.pose_noise_deg * M_PI / 180 / std::sqrt(3.0);
      const Vec3 noise_pos(noise_rng.Normal() * sp, noise_rng.Normal() * sp, noise_rng.Normal() * sp);
      const Vec3 noise_rot(noise_rng.Normal() * sr, noise_rng.Normal() * sr, noise_rng.Normal() * sr);
      const Rigid3d measured(SmallRotation(noise_rot + drift_rot) * truth.rotation, truth.translation + noise_pos + drift_pos);
      measured_poses.push_back({name, t, measured});
      true_poses.push_back({name, t, truth});
      RenderOptions ro;
      ro.exposure = exposure_rng.Uniform(0.75, 1.3);  // auto-exposure differs between stations
      ro.white_balance = Vec3(exposure_rng.Uniform(0.96, 1.04), 1.0, exposure_rng.Uniform(0.96, 1.04));
      ro.noise_sigma = 1.0 / 255.0;
      ro.noise_seed = HashCombine(o.city.seed, 2000 + i);
      const cv::Mat image = renderer.Render(pano_camera, truth.Inverse(), ro);
      const std::string path = (tmp / "panos" / (name + ".jpg")).string();
      if (!cv::imwrite(path, image, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality})) {
        return absl::DataLossError(absl::StrCat(path, ": cannot write JPEG"));
      }
      progress.Add();
    }
  }
  summary.num_panos = o.num_panos;
  summary.stage_seconds["panoramas"] = Seconds(t0);
  summary.seconds_per_pano = summary.stage_seconds["panoramas"] / o.num_panos;
  ARMAP_RETURN_IF_ERROR(io::WriteTrajectoryCsv(tmp / "trajectory.csv", measured_poses));
  ARMAP_RETURN_IF_ERROR(io::WriteTrajectoryCsv(tmp / "gt" / "panos_gt.csv", true_poses));

  // Lidar.
  t0 = Clock::now();
  OrderedJson lidar_files = OrderedJson::array();
  ARMAP_RETURN_IF_ERROR(SimulateLidar(
      scene, *appearance, o.lidar, world_from_rig, duration_s, HashCombine(o.city.seed, kLidarNoise),
      [&](int chunk, PointCloud&& cloud) -> absl::Status {
        const std::string name = absl::StrFormat("chunk_%03d.ply", chunk);
        summary.num_lidar_points += static_cast<long>(cloud.size());
        lidar_files.push_back({{"file", "lidar/" + name}, {"points", cloud.size()},
                               {"t_begin_s", cloud.timestamp_s.empty() ? 0.0 : cloud.timestamp_s.front()},
                               {"t_end_s", cloud.timestamp_s.empty() ? 0.0 : cloud.timestamp_s.back()}});
        return io::WritePlyBinary(tmp / "lidar" / name, cloud);
      }));
  summary.stage_seconds["lidar"] = Seconds(t0);
  ARMAP_LOG_INFO("lidar: {} points in {} chunks", summary.num_lidar_points, lidar_files.size());

  // Queries.
  t0 = Clock::now();
  const EnuFrame frame(o.city.origin);
  OrderedJson queries = OrderedJson::array(), queries_gt = OrderedJson::array();
  {
    Progress progress("queries", o.num_queries);
    for (int i = 0; i < o.num_queries; ++i) {
      QueryTruth q = SampleQuery(city, scene, o, i, length);
      const cv::Mat image = renderer.Render(q.camera, q.cam_from_world, q.render, q.extra.surfaces.empty() ? nullptr : &q.extra);
      const std::string rel = "queries/" + q.name + ".jpg";
      if (!cv::imwrite((tmp / rel).string(), image, {cv::IMWRITE_JPEG_QUALITY, o.jpeg_quality})) {
        return absl::DataLossError(absl::StrCat((tmp / rel).string(), ": cannot write JPEG"));
      }
      queries.push_back({{"name", q.name},
                         {"image", rel},
                         {"camera", {{"model", q.camera.ModelName()}, {"width", q.camera.width},
                                     {"height", q.camera.height}, {"params", q.camera.params}}},
                         {"prior", {{"lat", q.prior.lat_deg}, {"lon", q.prior.lon_deg}, {"alt", q.prior.alt_m},
                                    {"accuracy_m", 10.0},
                                    {"gravity", {q.gravity_in_cam.x(), q.gravity_in_cam.y(), q.gravity_in_cam.z()}}}}});
      queries_gt.push_back({{"name", q.name},
                            {"cam_from_world", PoseToJson(q.cam_from_world)},
                            {"localizable", q.localizable},
                            {"kind", q.kind},
                            {"occluded", q.occluded},
                            {"motion_blur_px", q.render.motion_blur_px},
                            {"exposure", q.render.exposure},
                            {"prior_error_m", q.prior_error_m}});
      progress.Add();
    }
  }
  summary.num_queries = o.num_queries;
  summary.stage_seconds["queries"] = Seconds(t0);
  summary.seconds_per_query = o.num_queries ? summary.stage_seconds["queries"] / o.num_queries : 0;

  // Metadata and ground truth.
  t0 = Clock::now();
  const OrderedJson capture{
      {"format", "armap-capture"},
      {"version", 1},
      {"synthetic", true},
      {"seed", o.city.seed},
      {"origin", {{"lat", o.city.origin.lat_deg}, {"lon", o.city.origin.lon_deg}, {"alt", o.city.origin.alt_m}}},
      {"frame", "ENU metres about origin (x east, y north, z up)"},
      {"panorama", {{"width", pano_camera.width}, {"height", pano_camera.height}, {"projection", "equirectangular"},
                    {"convention", "camera x right, y down, z forward; centre column looks along +z; row 0 is up"}}},
      {"trajectory", {{"file", "trajectory.csv"}, {"pose", "world_from_rig"},
                      {"rig", "the panorama camera frame: z forward (heading), x right, y down"}}},
      {"lidar", {{"model", absl::StrCat(o.lidar.beams, "-beam rotating")}, {"beams", o.lidar.beams},
                 {"rotation_hz", o.lidar.rotation_hz}, {"azimuth_resolution_deg", o.lidar.azimuth_resolution_deg},
                 {"elevation_range_deg", {o.lidar.min_elevation_deg, o.lidar.max_elevation_deg}},
                 {"range_noise_m", o.lidar.range_noise_m}, {"max_range_m", o.lidar.max_range_m},
                 {"registered", true}, {"frame", "map"}, {"fields", {"x", "y", "z", "intensity", "timestamp"}},
                 {"files", lidar_files}}},
      {"queries", o.num_queries > 0 ? "queries.json" : ""}};
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "capture.json", capture));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "queries.json", OrderedJson{{"queries", queries}}));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "gt" / "queries_gt.json",
                                      OrderedJson{{"pose", "cam_from_world, q = [w, x, y, z]"}, {"queries", queries_gt}}));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "gt" / "buildings.geojson", BuildingsGeoJson(city, frame)));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "gt" / "roads.geojson", RoadsGeoJson(city, frame)));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(tmp / "gt" / "pois.geojson", PoisGeoJson(city, frame)));
  if (o.preview) {
    ARMAP_RETURN_IF_ERROR(WritePreview(city, renderer, tmp, tmp / "preview.png"));
  }
  summary.stage_seconds["metadata"] = Seconds(t0);
  summary.total_seconds = Seconds(start);

  summary.num_triangles = scene.num_triangles();
  summary.photo_sources = appearance->patches().sources();
  summary.pano_width_px = pano_camera.width;
  summary.pano_height_px = pano_camera.height;
  summary.query_width_px = o.query_width_px;
  summary.query_height_px = o.query_height_px;
  summary.seed = o.city.seed;
  summary.size_m = o.city.size_m;

  if (std::filesystem::exists(out, ec)) std::filesystem::remove_all(out, ec);
  std::filesystem::rename(tmp, out, ec);
  if (ec) return absl::InternalError(absl::StrCat(out.string(), ": cannot move the finished capture into place: ", ec.message()));
  cleanup.armed = false;
  return summary;
}

}  // namespace armap::synth
