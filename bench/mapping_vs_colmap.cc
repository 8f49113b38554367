// Compares panorama poses from `armap map build` and from COLMAP's SfM on the
// same virtual views against the synthetic ground truth. COLMAP's model is
// first aligned to the truth with a similarity transform (it has no metric
// scale or geo frame); armap's poses are compared as they are.
//
// Usage: mapping_vs_colmap CAPTURE_DIR MAP_WORKSPACE COLMAP_TEXT_MODEL [VIEW_SIZE_PX]
// Prints a markdown table and one JSON line (the last line).
#include <cstdio>
#include <map>

#include <Eigen/Geometry>

#include "core/io/colmap_model.h"
#include "core/io/trajectory.h"
#include "core/json.h"
#include "mapping/pipeline/views.h"

namespace {

using namespace armap;

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CAPTURE_DIR MAP_WORKSPACE COLMAP_TEXT_MODEL [VIEW_SIZE_PX]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path capture = argv[1], workspace = argv[2], model_dir = argv[3];
  auto gt = io::ReadTrajectoryCsv(capture / "gt" / "panos_gt.csv");
  auto measured = io::ReadTrajectoryCsv(capture / "trajectory.csv");
  auto ours = io::ReadTrajectoryCsv(workspace / "alignment" / "poses.csv");
  auto model = io::ReadColmapModel(model_dir);
  for (const absl::Status& s : {gt.status(), measured.status(), ours.status(), model.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::map<std::string, Rigid3d> gt_by_name;
  for (const auto& p : *gt) gt_by_name[p.name] = p.world_from_rig;
  // COLMAP image "pano_0003/yaw045.jpg" -> rig pose via the view's cam_from_rig.
  mapping::ViewRigOptions rig_options;
  if (argc > 4) rig_options.size_px = std::atoi(argv[4]);
  const mapping::ViewRig rig(rig_options, 2048, 1024);
  std::map<std::string, Rigid3d> view_cam_from_rig;
  for (const auto& v : rig.views()) view_cam_from_rig[v.suffix] = v.cam_from_rig;
  std::vector<Eigen::Vector3d> src, dst;
  struct Reg { std::string pano; Rigid3d world_from_rig_colmap; };
  std::vector<Reg> regs;
  for (const auto& [id, image] : model->images) {
    const auto slash = image.name.find('/');
    if (slash == std::string::npos) continue;
    const std::string pano = image.name.substr(0, slash);
    std::string suffix = image.name.substr(slash + 1);
    suffix = suffix.substr(0, suffix.find('.'));
    if (!gt_by_name.count(pano) || !view_cam_from_rig.count(suffix)) continue;
    const Rigid3d world_from_rig = image.cam_from_world.Inverse() * view_cam_from_rig[suffix];
    regs.push_back({pano, world_from_rig});
    src.push_back(world_from_rig.translation);
    dst.push_back(gt_by_name[pano].translation);
  }
  if (src.size() < 3) {
    std::fprintf(stderr, "COLMAP registered too few views (%zu)\n", src.size());
    return 1;
  }
  Eigen::Matrix3Xd a(3, src.size()), b(3, dst.size());
  for (size_t i = 0; i < src.size(); ++i) {
    a.col(i) = src[i];
    b.col(i) = dst[i];
  }
  const Eigen::Matrix4d gt_from_colmap = Eigen::umeyama(a, b, true);
  const double scale = gt_from_colmap.topLeftCorner<3, 3>().col(0).norm();
  const Eigen::Matrix3d rot = gt_from_colmap.topLeftCorner<3, 3>() / scale;
  std::map<std::string, std::vector<double>> colmap_pos, colmap_rot;
  for (const Reg& r : regs) {
    const Eigen::Vector3d c = scale * rot * r.world_from_rig_colmap.translation + gt_from_colmap.topRightCorner<3, 1>();
    const Eigen::Quaterniond q(rot * r.world_from_rig_colmap.rotation.toRotationMatrix());
    colmap_pos[r.pano].push_back((c - gt_by_name[r.pano].translation).norm());
    colmap_rot[r.pano].push_back(RotationErrorDeg(q, gt_by_name[r.pano].rotation));
  }
  // armap's poses after the same kind of similarity: how much of its error
  // is one global offset rather than the trajectory's shape.
  Eigen::Matrix3Xd ours_c(3, gt->size()), gt_c(3, gt->size());
  for (size_t i = 0; i < gt->size(); ++i) {
    ours_c.col(i) = (*ours)[i].world_from_rig.translation;
    gt_c.col(i) = (*gt)[i].world_from_rig.translation;
  }
  const Eigen::Matrix4d gt_from_ours = Eigen::umeyama(ours_c, gt_c, true);
  const double ours_scale = gt_from_ours.topLeftCorner<3, 3>().col(0).norm();
  const Eigen::Matrix3d ours_rot = gt_from_ours.topLeftCorner<3, 3>() / ours_scale;
  std::vector<double> osp, osr;
  for (size_t i = 0; i < gt->size(); ++i) {
    const Eigen::Vector3d c = ours_scale * ours_rot * (*ours)[i].world_from_rig.translation + gt_from_ours.topRightCorner<3, 1>();
    osp.push_back((c - (*gt)[i].world_from_rig.translation).norm());
    osr.push_back(RotationErrorDeg(Eigen::Quaterniond(ours_rot * (*ours)[i].world_from_rig.rotation.toRotationMatrix()),
                                   (*gt)[i].world_from_rig.rotation));
  }
  std::vector<double> cp, cr, op, orot, mp, mr;
  for (const auto& [pano, v] : colmap_pos) cp.push_back(Median(v));
  for (const auto& [pano, v] : colmap_rot) cr.push_back(Median(v));
  for (size_t i = 0; i < gt->size(); ++i) {
    op.push_back(((*ours)[i].world_from_rig.translation - (*gt)[i].world_from_rig.translation).norm());
    orot.push_back(RotationErrorDeg((*ours)[i].world_from_rig.rotation, (*gt)[i].world_from_rig.rotation));
    mp.push_back(((*measured)[i].world_from_rig.translation - (*gt)[i].world_from_rig.translation).norm());
    mr.push_back(RotationErrorDeg((*measured)[i].world_from_rig.rotation, (*gt)[i].world_from_rig.rotation));
  }
  std::printf("| poses vs ground truth | panos | median position error (m) | median rotation error (deg) |\n|---|---|---|---|\n");
  std::printf("| measured trajectory | %zu | %.4f | %.4f |\n", mp.size(), Median(mp), Median(mr));
  std::printf("| armap map build (metric, no alignment) | %zu | %.4f | %.4f |\n", op.size(), Median(op), Median(orot));
  std::printf("| armap map build after Sim3 to truth (scale %.5f) | %zu | %.4f | %.4f |\n", ours_scale, osp.size(), Median(osp),
              Median(osr));
  std::printf("| COLMAP SfM (after Sim3 to truth, scale %.3f) | %zu of %zu | %.4f | %.4f |\n", scale, cp.size(), gt->size(),
              Median(cp), Median(cr));
  OrderedJson out{{"armap", {{"median_pos_err_m", Median(op)}, {"median_rot_err_deg", Median(orot)}}},
                  {"armap_sim3", {{"median_pos_err_m", Median(osp)}, {"median_rot_err_deg", Median(osr)}, {"sim3_scale", ours_scale}}},
                  {"colmap", {{"median_pos_err_m", Median(cp)}, {"median_rot_err_deg", Median(cr)},
                              {"registered_views", regs.size()}, {"registered_panos", cp.size()}, {"sim3_scale", scale}}},
                  {"measured", {{"median_pos_err_m", Median(mp)}, {"median_rot_err_deg", Median(mr)}}}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
