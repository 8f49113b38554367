// All PCL code of mapping/lidar lives here (PCL is heavy to compile and must
// stay out of headers; STYLE.md 2.1, TOOLCHAIN.md 1).
#include "mapping/lidar/lidar_pcl.h"

#include <exception>
#include <limits>

#include <pcl/filters/statistical_outlier_removal.h>
#include <pcl/point_cloud.h>
#include <pcl/point_types.h>

#include "absl/strings/str_cat.h"

namespace armap::mapping::internal {

absl::StatusOr<std::vector<uint8_t>> PclStatisticalOutlierKeepMask(const std::vector<Eigen::Vector3f>& points,
                                                                   int mean_k, double stddev_mul) {
  if (points.size() >= static_cast<size_t>(std::numeric_limits<pcl::index_t>::max())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("statistical outlier removal (PCL): ", points.size(), " points exceed PCL's index type"));
  }
  try {
    pcl::PointCloud<pcl::PointXYZ>::Ptr cloud(new pcl::PointCloud<pcl::PointXYZ>);
    cloud->resize(points.size());
    for (size_t i = 0; i < points.size(); ++i) (*cloud)[i] = pcl::PointXYZ(points[i].x(), points[i].y(), points[i].z());
    cloud->width = static_cast<uint32_t>(points.size());
    cloud->height = 1;
    cloud->is_dense = true;
    pcl::StatisticalOutlierRemoval<pcl::PointXYZ> sor;
    sor.setInputCloud(cloud);
    sor.setMeanK(mean_k);
    sor.setStddevMulThresh(stddev_mul);
    pcl::Indices inliers;
    sor.filter(inliers);
    std::vector<uint8_t> keep(points.size(), 0);
    for (const pcl::index_t i : inliers) keep[static_cast<size_t>(i)] = 1;
    return keep;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("statistical outlier removal (PCL) failed: ", e.what()));
  } catch (...) {
    return absl::InternalError("statistical outlier removal (PCL) failed with an unknown exception");
  }
}

}  // namespace armap::mapping::internal
