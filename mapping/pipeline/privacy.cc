#include "mapping/pipeline/privacy.h"

#include <filesystem>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "absl/strings/str_cat.h"

namespace armap::mapping {

absl::Status PrivacyOptions::Validate() const {
  if (min_neighbors < 1) return absl::InvalidArgumentError(absl::StrCat("PrivacyOptions::min_neighbors = ", min_neighbors, "; must be >= 1"));
  if (min_size_px < 8) return absl::InvalidArgumentError(absl::StrCat("PrivacyOptions::min_size_px = ", min_size_px, "; must be >= 8"));
  if (!(max_abs_elevation_deg > 0 && max_abs_elevation_deg <= 90)) {
    return absl::InvalidArgumentError("PrivacyOptions::max_abs_elevation_deg must be in (0, 90]");
  }
  return absl::OkStatus();
}

struct PrivacyFilter::Impl {
  PrivacyOptions options;
  mutable cv::CascadeClassifier faces;
  mutable cv::CascadeClassifier plates;
};

PrivacyFilter::PrivacyFilter() : impl_(new Impl) {}
PrivacyFilter::~PrivacyFilter() = default;

absl::StatusOr<std::unique_ptr<PrivacyFilter>> PrivacyFilter::Create(const PrivacyOptions& options) {
  if (auto s = options.Validate(); !s.ok()) return s;
  std::unique_ptr<PrivacyFilter> filter(new PrivacyFilter);
  filter->impl_->options = options;
  const std::filesystem::path dir = options.cascade_dir;
  const std::filesystem::path face = dir / "haarcascade_frontalface_default.xml";
  const std::filesystem::path plate = dir / "haarcascade_russian_plate_number.xml";
  if (!filter->impl_->faces.load(face.string())) {
    return absl::FailedPreconditionError(absl::StrCat(face.string(), ": cannot load the face detector (install opencv-data)"));
  }
  if (!filter->impl_->plates.load(plate.string())) {
    return absl::FailedPreconditionError(absl::StrCat(plate.string(), ": cannot load the plate detector (install opencv-data)"));
  }
  return filter;
}

PrivacyCounts PrivacyFilter::Apply(cv::Mat& panorama) const {
  PrivacyCounts counts;
  const Impl& impl = *impl_;
  // Only the band around the horizon can hold faces and plates.
  const double band = impl.options.max_abs_elevation_deg / 180.0;
  const int top = static_cast<int>((0.5 - band) * panorama.rows);
  const int height = static_cast<int>(2 * band * panorama.rows);
  const cv::Rect roi(0, std::max(0, top), panorama.cols, std::min(height, panorama.rows - std::max(0, top)));
  cv::Mat gray;
  cv::cvtColor(panorama(roi), gray, cv::COLOR_BGR2GRAY);
  cv::equalizeHist(gray, gray);
  const cv::Size min_size(impl.options.min_size_px, impl.options.min_size_px);
  auto blur = [&](const std::vector<cv::Rect>& boxes) {
    for (cv::Rect box : boxes) {
      box.y += roi.y;
      // Grow the box a little: detectors are tight and hair/plate frames identify too.
      const int grow = box.width / 4;
      box = cv::Rect(box.x - grow, box.y - grow, box.width + 2 * grow, box.height + 2 * grow) &
            cv::Rect(0, 0, panorama.cols, panorama.rows);
      cv::Mat region = panorama(box);
      const int k = (std::max(box.width, box.height) / 2) | 1;
      cv::GaussianBlur(region, region, cv::Size(k, k), 0);
    }
  };
  std::vector<cv::Rect> faces, plates;
  impl.faces.detectMultiScale(gray, faces, 1.2, impl.options.min_neighbors, 0, min_size);
  impl.plates.detectMultiScale(gray, plates, 1.2, impl.options.min_neighbors, 0, cv::Size(2 * impl.options.min_size_px, impl.options.min_size_px / 2));
  blur(faces);
  blur(plates);
  counts.faces = static_cast<int>(faces.size());
  counts.plates = static_cast<int>(plates.size());
  return counts;
}

}  // namespace armap::mapping
