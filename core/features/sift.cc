#include "core/features/sift.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>
#include <ctime>
#include <exception>
#include <tuple>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"

namespace armap::features::internal {
namespace {

// OpenCV 4.6's constants (modules/features2d/src/sift.simd.hpp).
constexpr int kImageBorder = 5;       // no extrema within 5 px of an octave's border
constexpr int kMaxInterpSteps = 5;    // sub-pixel refinement iterations
constexpr int kOriBins = 36;          // orientation histogram
constexpr float kOriSigmaFactor = 1.5f;
constexpr float kOriRadiusFactor = 4.5f;  // 3 * kOriSigmaFactor
constexpr float kOriPeakRatio = 0.8f;
constexpr int kDescWidth = 4;  // 4 x 4 cells
constexpr int kDescBins = 8;   // orientations per cell
constexpr int kDescDim = kDescWidth * kDescWidth * kDescBins;
constexpr float kDescSclFactor = 3.0f;  // cell width in keypoint scales
constexpr float kDescMagThreshold = 0.2f;
constexpr float kIntDescFactor = 512.0f;
constexpr float kInitSigma = 0.5f;  // assumed blur of the input image
// Descriptor histogram: a sample's trilinear interpolation adds 8 values to
// the bins (r0 + dr, c0 + dc, o0 + do), dr, dc, do in {0, 1}. Each (r0, c0,
// o0) has its own block of those 8 values (element dr 4 + dc 2 + do), so a
// sample is one 32-byte read-modify-write instead of eight scattered adds;
// Describe() sums each bin from the 8 blocks that hold a part of it.
// r0, c0 in [-1, 3] (rows and columns of blocks 0..4), o0 in [0, 7].
constexpr int kBlockCols = kDescWidth + 1;
constexpr int kBlockLen = 8;
constexpr int kHistLen = kBlockCols * kBlockCols * kDescBins * kBlockLen;

std::atomic<bool> g_force_scalar{false};

bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return has;
}

bool UseAvx512() { return CpuHasAvx512() && !g_force_scalar.load(std::memory_order_relaxed); }

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() through unmasked
// lanes and then warn about it at -O3; nothing here reads those lanes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// ------------------------------------------------------------ extrema scan

// OpenCV's test: |v| > threshold and v >= all 26 neighbours (v > 0) or
// v <= all of them (v < 0). Appends the columns in [c_begin, c_end).
void ScanRowScalar(const float* prev, const float* cur, const float* next, ptrdiff_t step, int c_begin, int c_end,
                   float threshold, std::vector<int>* cols) {
  for (int c = c_begin; c < c_end; ++c) {
    const float v = cur[c];
    if (!(std::abs(v) > threshold)) continue;
    bool is_max = v > 0, is_min = v < 0;
    for (const float* plane : {prev, cur, next}) {
      for (ptrdiff_t dy = -step; dy <= step; dy += step) {
        for (int dx = -1; dx <= 1; ++dx) {
          const float n = plane[c + dy + dx];
          is_max = is_max && v >= n;
          is_min = is_min && v <= n;
        }
      }
    }
    if (is_max || is_min) cols->push_back(c);
  }
}

__attribute__((target("avx512f,avx512dq"))) void ScanRowAvx512(const float* prev, const float* cur, const float* next,
                                                                 ptrdiff_t step, int c_begin, int c_end,
                                                                 float threshold, std::vector<int>* cols) {
  const __m512 thr = _mm512_set1_ps(threshold);
  const __m512 zero = _mm512_setzero_ps();
  int c = c_begin;
  for (; c + 16 <= c_end; c += 16) {
    const __m512 v = _mm512_loadu_ps(cur + c);
    const __mmask16 strong = _mm512_cmp_ps_mask(_mm512_abs_ps(v), thr, _CMP_GT_OQ);
    if (strong == 0) continue;
    // v itself is among the 27 values, so max/min over all 27 and v >= max
    // is the same test as v >= each of the 26 neighbours.
    __m512 mx = v, mn = v;
    for (const float* plane : {prev, cur, next}) {
      for (ptrdiff_t dy = -step; dy <= step; dy += step) {
        const float* p = plane + c + dy;
        const __m512 a = _mm512_loadu_ps(p - 1), b = _mm512_loadu_ps(p), d = _mm512_loadu_ps(p + 1);
        mx = _mm512_max_ps(mx, _mm512_max_ps(a, _mm512_max_ps(b, d)));
        mn = _mm512_min_ps(mn, _mm512_min_ps(a, _mm512_min_ps(b, d)));
      }
    }
    const __mmask16 is_max = _mm512_cmp_ps_mask(v, mx, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
    const __mmask16 is_min = _mm512_cmp_ps_mask(v, mn, _CMP_LE_OQ) & _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
    unsigned m = strong & (is_max | is_min);
    while (m != 0) {
      cols->push_back(c + __builtin_ctz(m));
      m &= m - 1;
    }
  }
  ScanRowScalar(prev, cur, next, step, c, c_end, threshold, cols);
}

// ------------------------------------------------------------ gradients

// OpenCV's fastAtan2 polynomial (degrees, [0, 360]); the same coefficients,
// so orientations agree with OpenCV's to float rounding.
constexpr float kAtanP1 = 0.9997878412794807f * static_cast<float>(180 / M_PI);
constexpr float kAtanP3 = -0.3258083974640975f * static_cast<float>(180 / M_PI);
constexpr float kAtanP5 = 0.1555786518463281f * static_cast<float>(180 / M_PI);
constexpr float kAtanP7 = -0.04432655554792128f * static_cast<float>(180 / M_PI);
constexpr float kAtanEps = static_cast<float>(DBL_EPSILON);

inline float FastAtan2Deg(float y, float x) {
  const float ax = std::abs(x), ay = std::abs(y);
  const float c = std::min(ax, ay) / (std::max(ax, ay) + kAtanEps);
  const float c2 = c * c;
  float a = (((kAtanP7 * c2 + kAtanP5) * c2 + kAtanP3) * c2 + kAtanP1) * c;
  if (!(ax >= ay)) a = 90.0f - a;
  if (x < 0) a = 180.0f - a;
  if (y < 0) a = 360.0f - a;
  return a;
}

// Gradient magnitude and angle at pixels of one Gaussian level, OpenCV's
// differences: dx = I(y, x+1) - I(y, x-1), dy = I(y-1, x) - I(y+1, x) (y
// up), computed where the orientation and descriptor windows sample them
// (rows 1..rows-2, columns 1..cols-2, all OpenCV samples). Computing them
// there costs less than a map per level: a 1280 x 960 level's maps are
// 9.8 MB, larger than L2, and the windows then wait on L3 for two arrays
// where they now read one (the level) whose rows they share.
struct LevelView {
  const float* data = nullptr;
  ptrdiff_t step = 0;  // floats per row
  int rows = 0, cols = 0;
  const float* row(int y) const { return data + y * step; }
};

LevelView ViewOf(const cv::Mat& level) {
  return {level.ptr<float>(0), static_cast<ptrdiff_t>(level.step1()), level.rows, level.cols};
}

// up, mid, down: rows y - 1, y, y + 1.
inline void GradientAt(const float* up, const float* mid, const float* down, int x, float* mag, float* ang) {
  const float dx = mid[x + 1] - mid[x - 1];
  const float dy = up[x] - down[x];
  *mag = std::sqrt(dx * dx + dy * dy);
  *ang = FastAtan2Deg(dy, dx);
}

struct AtanConstants {
  __m512 p1, p3, p5, p7, eps, zero, k90, k180, k360;
};

__attribute__((target("avx512f,avx512dq"))) inline AtanConstants MakeAtanConstants() {
  return {_mm512_set1_ps(kAtanP1), _mm512_set1_ps(kAtanP3), _mm512_set1_ps(kAtanP5), _mm512_set1_ps(kAtanP7),
          _mm512_set1_ps(kAtanEps), _mm512_setzero_ps(),     _mm512_set1_ps(90.0f),   _mm512_set1_ps(180.0f),
          _mm512_set1_ps(360.0f)};
}

// 16 pixels from x, lanes outside m read nothing (and come out as 0, 0).
__attribute__((target("avx512f,avx512dq"), always_inline)) inline void Gradient16(const float* up, const float* mid,
                                                                                 const float* down, int x,
                                                                                 __mmask16 m, const AtanConstants& k,
                                                                                 __m512* mag, __m512* ang) {
  const __m512 dx = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, mid + x + 1), _mm512_maskz_loadu_ps(m, mid + x - 1));
  const __m512 dy = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, up + x), _mm512_maskz_loadu_ps(m, down + x));
  *mag = _mm512_sqrt_ps(_mm512_fmadd_ps(dx, dx, _mm512_mul_ps(dy, dy)));
  const __m512 ax = _mm512_abs_ps(dx), ay = _mm512_abs_ps(dy);
  const __m512 c = _mm512_div_ps(_mm512_min_ps(ax, ay), _mm512_add_ps(_mm512_max_ps(ax, ay), k.eps));
  const __m512 c2 = _mm512_mul_ps(c, c);
  __m512 a = _mm512_fmadd_ps(k.p7, c2, k.p5);
  a = _mm512_fmadd_ps(a, c2, k.p3);
  a = _mm512_fmadd_ps(a, c2, k.p1);
  a = _mm512_mul_ps(a, c);
  a = _mm512_mask_sub_ps(a, _mm512_cmp_ps_mask(ax, ay, _CMP_LT_OQ), k.k90, a);
  a = _mm512_mask_sub_ps(a, _mm512_cmp_ps_mask(dx, k.zero, _CMP_LT_OQ), k.k180, a);
  *ang = _mm512_mask_sub_ps(a, _mm512_cmp_ps_mask(dy, k.zero, _CMP_LT_OQ), k.k360, a);
}

// The window's rows are a level-row stride apart, which the hardware
// prefetcher does not follow: fetch them a few rows ahead.
inline void PrefetchRowSpan(const float* row, int x_begin, int x_end) {
  for (int x = x_begin; x <= x_end + 16; x += 16) _mm_prefetch(reinterpret_cast<const char*>(row + x), _MM_HINT_T0);
}

// ------------------------------------------------------------ refinement

// A refined extremum, in the octave's pixel grid (o counts from the doubled
// image, o = 0) and as OpenCV reports it after its firstOctave = -1 rescale.
struct Candidate {
  int o = 0, layer = 0, r = 0, c = 0;  // integer location after refinement
  float xc = 0, xr = 0, xi = 0;        // sub-pixel offsets
  SiftKeypoint kp;                     // angle unset
  float size_in_octave = 0;            // OpenCV's kpt.size before the rescale
};

// OpenCV's adjustLocalExtrema (float path), step for step.
bool AdjustLocalExtremum(const std::vector<cv::Mat>& dog, int o, int layers, float contrast_threshold,
                         float edge_threshold, float sigma, int layer, int r, int c, Candidate* out) {
  const float img_scale = 1.0f / 255.0f;
  const float deriv_scale = img_scale * 0.5f;
  const float second_deriv_scale = img_scale;
  const float cross_deriv_scale = img_scale * 0.25f;
  float xi = 0, xr = 0, xc = 0;
  int i = 0;
  for (; i < kMaxInterpSteps; ++i) {
    const int idx = o * (layers + 2) + layer;
    const cv::Mat& img = dog[idx];
    const cv::Mat& prev = dog[idx - 1];
    const cv::Mat& next = dog[idx + 1];
    const cv::Vec3f dD((img.at<float>(r, c + 1) - img.at<float>(r, c - 1)) * deriv_scale,
                       (img.at<float>(r + 1, c) - img.at<float>(r - 1, c)) * deriv_scale,
                       (next.at<float>(r, c) - prev.at<float>(r, c)) * deriv_scale);
    const float v2 = img.at<float>(r, c) * 2;
    const float dxx = (img.at<float>(r, c + 1) + img.at<float>(r, c - 1) - v2) * second_deriv_scale;
    const float dyy = (img.at<float>(r + 1, c) + img.at<float>(r - 1, c) - v2) * second_deriv_scale;
    const float dss = (next.at<float>(r, c) + prev.at<float>(r, c) - v2) * second_deriv_scale;
    const float dxy = (img.at<float>(r + 1, c + 1) - img.at<float>(r + 1, c - 1) - img.at<float>(r - 1, c + 1) +
                       img.at<float>(r - 1, c - 1)) *
                      cross_deriv_scale;
    const float dxs = (next.at<float>(r, c + 1) - next.at<float>(r, c - 1) - prev.at<float>(r, c + 1) +
                       prev.at<float>(r, c - 1)) *
                      cross_deriv_scale;
    const float dys = (next.at<float>(r + 1, c) - next.at<float>(r - 1, c) - prev.at<float>(r + 1, c) +
                       prev.at<float>(r - 1, c)) *
                      cross_deriv_scale;
    const cv::Matx33f H(dxx, dxy, dxs, dxy, dyy, dys, dxs, dys, dss);
    const cv::Vec3f X = H.solve(dD, cv::DECOMP_LU);
    xi = -X[2];
    xr = -X[1];
    xc = -X[0];
    if (std::abs(xi) < 0.5f && std::abs(xr) < 0.5f && std::abs(xc) < 0.5f) break;
    if (std::abs(xi) > static_cast<float>(INT_MAX / 3) || std::abs(xr) > static_cast<float>(INT_MAX / 3) ||
        std::abs(xc) > static_cast<float>(INT_MAX / 3)) {
      return false;
    }
    c += cvRound(xc);
    r += cvRound(xr);
    layer += cvRound(xi);
    if (layer < 1 || layer > layers || c < kImageBorder || c >= img.cols - kImageBorder || r < kImageBorder ||
        r >= img.rows - kImageBorder) {
      return false;
    }
  }
  if (i >= kMaxInterpSteps) return false;

  const int idx = o * (layers + 2) + layer;
  const cv::Mat& img = dog[idx];
  const cv::Mat& prev = dog[idx - 1];
  const cv::Mat& next = dog[idx + 1];
  const cv::Matx31f dD((img.at<float>(r, c + 1) - img.at<float>(r, c - 1)) * deriv_scale,
                       (img.at<float>(r + 1, c) - img.at<float>(r - 1, c)) * deriv_scale,
                       (next.at<float>(r, c) - prev.at<float>(r, c)) * deriv_scale);
  const float t = dD.dot(cv::Matx31f(xc, xr, xi));
  const float contr = img.at<float>(r, c) * img_scale + t * 0.5f;
  if (std::abs(contr) * layers < contrast_threshold) return false;
  // Principal curvatures from the trace and determinant of the 2D Hessian.
  const float v2 = img.at<float>(r, c) * 2.0f;
  const float dxx = (img.at<float>(r, c + 1) + img.at<float>(r, c - 1) - v2) * second_deriv_scale;
  const float dyy = (img.at<float>(r + 1, c) + img.at<float>(r - 1, c) - v2) * second_deriv_scale;
  const float dxy = (img.at<float>(r + 1, c + 1) - img.at<float>(r + 1, c - 1) - img.at<float>(r - 1, c + 1) +
                     img.at<float>(r - 1, c - 1)) *
                    cross_deriv_scale;
  const float tr = dxx + dyy;
  const float det = dxx * dyy - dxy * dxy;
  if (det <= 0 || tr * tr * edge_threshold >= (edge_threshold + 1) * (edge_threshold + 1) * det) return false;

  out->o = o;
  out->layer = layer;
  out->r = r;
  out->c = c;
  out->xc = xc;
  out->xr = xr;
  out->xi = xi;
  const float x_in_octave = (c + xc) * static_cast<float>(1 << o);
  const float y_in_octave = (r + xr) * static_cast<float>(1 << o);
  out->size_in_octave = sigma * powf(2.0f, (layer + xi) / layers) * static_cast<float>(1 << o) * 2;
  // OpenCV's firstOctave = -1 rescale (exact: a power of two).
  out->kp.x = x_in_octave * 0.5f;
  out->kp.y = y_in_octave * 0.5f;
  out->kp.size = out->size_in_octave * 0.5f;
  const int packed = o + (layer << 8) + (cvRound((xi + 0.5) * 255) << 16);
  out->kp.octave = (packed & ~255) | ((packed - 1) & 255);
  out->kp.response = std::abs(contr);
  return true;
}

// ------------------------------------------------------------ orientation

// Symmetric Gaussian weights w[k + radius] = exp(k^2 * scale), k in
// [-radius, radius]: exp(-(i^2 + j^2) a) = w_i w_j, so a window's weights
// come from one table of 2 radius + 1 entries.
void WeightTable(int radius, float scale, std::vector<float>* w) {
  w->resize(2 * radius + 1 + 16);  // + 16: vector loads past the end read zeros
  for (int k = 0; k <= radius; ++k) (*w)[radius + k] = (*w)[radius - k] = std::exp(static_cast<float>(k * k) * scale);
  std::fill(w->begin() + 2 * radius + 1, w->end(), 0.0f);
}

// One window row of the orientation histogram: temp[lane][bin + 2] +=
// w_y w_x |grad| for x in [x_begin, x_end]. Four interleaved histograms
// break the store-to-load chains of neighbours falling into the same bin.
using OriHist4 = float[4][kOriBins + 4];

void OrientationRowScalar(const float* up, const float* mid, const float* down, const float* wx, float wy,
                          int x_begin, int x_end, OriHist4& temp) {
  const float bins_per_deg = kOriBins / 360.0f;
  for (int x = x_begin; x <= x_end; ++x) {
    float mag, ang;
    GradientAt(up, mid, down, x, &mag, &ang);
    int bin = cvRound(bins_per_deg * ang);
    if (bin >= kOriBins) bin -= kOriBins;
    if (bin < 0) bin += kOriBins;
    temp[x & 3][bin + 2] += wy * wx[x] * mag;
  }
}

__attribute__((target("avx512f,avx512dq"))) void OrientationRowAvx512(const float* up, const float* mid,
                                                                        const float* down, const float* wx, float wy,
                                                                        int x_begin, int x_end, OriHist4& temp) {
  const AtanConstants k = MakeAtanConstants();
  const __m512 bins_per_deg = _mm512_set1_ps(kOriBins / 360.0f), vwy = _mm512_set1_ps(wy);
  const __m512i nbins = _mm512_set1_epi32(kOriBins), zero = _mm512_setzero_si512();
  alignas(64) int32_t bins[16];
  alignas(64) float w[16];
  for (int x = x_begin; x <= x_end; x += 16) {
    const int n = std::min(16, x_end + 1 - x);
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    __m512 mag, a;
    Gradient16(up, mid, down, x, m, k, &mag, &a);
    __m512i bin = _mm512_cvtps_epi32(_mm512_mul_ps(bins_per_deg, a));  // round half to even, as cvRound
    bin = _mm512_mask_sub_epi32(bin, _mm512_cmpge_epi32_mask(bin, nbins), bin, nbins);
    bin = _mm512_mask_add_epi32(bin, _mm512_cmplt_epi32_mask(bin, zero), bin, nbins);
    const __m512 v = _mm512_mul_ps(_mm512_mul_ps(vwy, _mm512_maskz_loadu_ps(m, wx + x)), mag);
    _mm512_store_si512(bins, bin);
    _mm512_store_ps(w, v);
    for (int l = 0; l < n; ++l) temp[(x + l) & 3][bins[l] + 2] += w[l];
  }
}

// OpenCV's calcOrientationHist; returns the peak of the smoothed 36-bin
// histogram.
float OrientationHistogram(const LevelView& g, int px, int py, int radius, float sigma, float* hist) {
  thread_local std::vector<float> weight;
  WeightTable(radius, -1.0f / (2.0f * sigma * sigma), &weight);
  OriHist4 temp = {};
  const int y_begin = std::max(py - radius, 1), y_end = std::min(py + radius, g.rows - 2);
  const int x_begin = std::max(px - radius, 1), x_end = std::min(px + radius, g.cols - 2);
  const float* wx = weight.data() + radius - px;  // wx[x] = weight of column x
  const bool avx512 = UseAvx512();
  constexpr int kPrefetchRows = 4;
  for (int y = y_begin - 1; y <= std::min(y_end + 1, y_begin + kPrefetchRows); ++y) {
    PrefetchRowSpan(g.row(y), x_begin - 1, x_end + 1);
  }
  for (int y = y_begin; y <= y_end; ++y) {
    if (y + 1 + kPrefetchRows <= y_end + 1) PrefetchRowSpan(g.row(y + 1 + kPrefetchRows), x_begin - 1, x_end + 1);
    const float wy = weight[y - py + radius];
    if (avx512) {
      OrientationRowAvx512(g.row(y - 1), g.row(y), g.row(y + 1), wx, wy, x_begin, x_end, temp);
    } else {
      OrientationRowScalar(g.row(y - 1), g.row(y), g.row(y + 1), wx, wy, x_begin, x_end, temp);
    }
  }
  float* t = temp[0];
  for (int b = 0; b < kOriBins; ++b) t[b + 2] += temp[1][b + 2] + temp[2][b + 2] + temp[3][b + 2];
  t[1] = t[kOriBins + 1];
  t[0] = t[kOriBins];
  t[kOriBins + 2] = t[2];
  t[kOriBins + 3] = t[3];
  float maxval = 0;
  for (int b = 0; b < kOriBins; ++b) {
    hist[b] = (t[b] + t[b + 4]) * (1.0f / 16.0f) + (t[b + 1] + t[b + 3]) * (4.0f / 16.0f) + t[b + 2] * (6.0f / 16.0f);
    maxval = b == 0 ? hist[b] : std::max(maxval, hist[b]);
  }
  return maxval;
}

// Appends one keypoint per histogram peak >= 0.8 of the maximum (OpenCV).
void AssignOrientations(const LevelView& g, const Candidate& cand, std::vector<Candidate>* out) {
  const float scl_octv = cand.size_in_octave * 0.5f / static_cast<float>(1 << cand.o);
  float hist[kOriBins];
  const float omax = OrientationHistogram(g, cand.c, cand.r, cvRound(kOriRadiusFactor * scl_octv),
                                          kOriSigmaFactor * scl_octv, hist);
  const float mag_thr = omax * kOriPeakRatio;
  for (int j = 0; j < kOriBins; ++j) {
    const int l = j > 0 ? j - 1 : kOriBins - 1;
    const int r2 = j < kOriBins - 1 ? j + 1 : 0;
    if (hist[j] > hist[l] && hist[j] > hist[r2] && hist[j] >= mag_thr) {
      float bin = j + 0.5f * (hist[l] - hist[r2]) / (hist[l] - 2 * hist[j] + hist[r2]);
      bin = bin < 0 ? kOriBins + bin : bin >= kOriBins ? bin - kOriBins : bin;
      Candidate k = cand;
      k.kp.angle_deg = 360.0f - (360.0f / kOriBins) * bin;
      if (std::abs(k.kp.angle_deg - 360.0f) < FLT_EPSILON) k.kp.angle_deg = 0.0f;
      out->push_back(k);
    }
  }
}

// ------------------------------------------------------------ descriptor

// The part of window row i (j = x - px) that can land in the 4 x 4 cells:
// |j cos_t - i sin_t| < 2.5 and |j sin_t + i cos_t| < 2.5 (in cells), one
// column of margin (which also covers multiplying by 1 / a instead of
// dividing: a few ulps); the exact test stays in the sample loop.
// inv_cos, inv_sin: 1 / cos_t, 1 / sin_t (unused where those are ~0).
void CellColumns(int i, float cos_t, float sin_t, float inv_cos, float inv_sin, int* j_lo, int* j_hi) {
  const float half = kDescWidth / 2 + 0.5f;
  float lo = -1e9f, hi = 1e9f;
  auto constrain = [&](float a, float inv_a, float b) {  // -half < a j + b < half
    if (std::abs(a) < 1e-12f) {
      if (!(std::abs(b) < half)) lo = 1, hi = 0;
      return;
    }
    float p = (-half - b) * inv_a, q = (half - b) * inv_a;
    if (p > q) std::swap(p, q);
    lo = std::max(lo, p);
    hi = std::min(hi, q);
  };
  constrain(cos_t, inv_cos, -i * sin_t);
  constrain(sin_t, inv_sin, i * cos_t);
  if (lo > hi) {
    *j_lo = 1;
    *j_hi = 0;
    return;
  }
  *j_lo = static_cast<int>(std::floor(std::max(lo, -1e6f))) - 1;
  *j_hi = static_cast<int>(std::ceil(std::min(hi, 1e6f))) + 1;
}

// Copies of the histogram, taken by alternating samples: neighbouring
// samples often hit the same block, and a block's read-modify-writes form a
// store-to-load chain.
constexpr int kDescCopies = 4;
using DescHist2 = float[kDescCopies][kHistLen];

// Trilinear interpolation of one sample into the 2 x 2 x 2 neighbouring
// bins (OpenCV's arithmetic).
inline void AccumulateSample(float rbin, float cbin, float obin, float mag, float* hist) {
  const int r0 = cvFloor(rbin), c0 = cvFloor(cbin);
  int o0 = cvFloor(obin);
  rbin -= r0;
  cbin -= c0;
  obin -= o0;
  if (o0 < 0) o0 += kDescBins;
  if (o0 >= kDescBins) o0 -= kDescBins;
  const float v_r1 = mag * rbin, v_r0 = mag - v_r1;
  const float v_rc11 = v_r1 * cbin, v_rc10 = v_r1 - v_rc11;
  const float v_rc01 = v_r0 * cbin, v_rc00 = v_r0 - v_rc01;
  const float v_rco111 = v_rc11 * obin, v_rco110 = v_rc11 - v_rco111;
  const float v_rco101 = v_rc10 * obin, v_rco100 = v_rc10 - v_rco101;
  const float v_rco011 = v_rc01 * obin, v_rco010 = v_rc01 - v_rco011;
  const float v_rco001 = v_rc00 * obin, v_rco000 = v_rc00 - v_rco001;
  float* h = hist + (((r0 + 1) * kBlockCols + c0 + 1) * kDescBins + o0) * kBlockLen;
  h[0] += v_rco000;
  h[1] += v_rco001;
  h[2] += v_rco010;
  h[3] += v_rco011;
  h[4] += v_rco100;
  h[5] += v_rco101;
  h[6] += v_rco110;
  h[7] += v_rco111;
}

struct DescRow {
  const float* up;  // level rows y - 1, y, y + 1, indexed by j (offset by px)
  const float* mid;
  const float* down;
  const float* wj;   // weight of column j
  float wy;
  int i;
  int j_begin, j_end;  // inclusive
  float cos_t, sin_t, ori;
};

void DescriptorRowScalar(const DescRow& row, DescHist2& hist) {
  const float bins_per_deg = kDescBins / 360.0f;
  for (int j = row.j_begin; j <= row.j_end; ++j) {
    // Rotated into the keypoint's frame, in cells; -0.5 so that a sample
    // at the centre of cell 1 (1.5) puts its full weight in cell 1.
    const float c_rot = j * row.cos_t - row.i * row.sin_t;
    const float r_rot = j * row.sin_t + row.i * row.cos_t;
    const float rbin = r_rot + kDescWidth / 2 - 0.5f;
    const float cbin = c_rot + kDescWidth / 2 - 0.5f;
    if (!(rbin > -1 && rbin < kDescWidth && cbin > -1 && cbin < kDescWidth)) continue;
    float mag, ang;
    GradientAt(row.up, row.mid, row.down, j, &mag, &ang);
    AccumulateSample(rbin, cbin, (ang - row.ori) * bins_per_deg, mag * (row.wy * row.wj[j]),
                     hist[j & (kDescCopies - 1)]);
  }
}

__attribute__((target("avx512f,avx512dq"))) void DescriptorRowAvx512(const DescRow& row, DescHist2& hist) {
  const AtanConstants atan_k = MakeAtanConstants();
  const __m512 cos_t = _mm512_set1_ps(row.cos_t), sin_t = _mm512_set1_ps(row.sin_t);
  const __m512 i_sin = _mm512_set1_ps(row.i * row.sin_t), i_cos = _mm512_set1_ps(row.i * row.cos_t);
  const __m512 half_d = _mm512_set1_ps(kDescWidth / 2), half = _mm512_set1_ps(0.5f);
  const __m512 lo = _mm512_set1_ps(-1.0f), hi = _mm512_set1_ps(static_cast<float>(kDescWidth));
  const __m512 ori = _mm512_set1_ps(row.ori), bins_per_deg = _mm512_set1_ps(kDescBins / 360.0f);
  const __m512 wy = _mm512_set1_ps(row.wy);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i nbins = _mm512_set1_epi32(kDescBins), zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  // 128-bit lanes (a q, b q) for q = 0, 1 and q = 2, 3.
  const __m512i lo_lanes = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i hi_lanes = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  alignas(64) int32_t idx[16];
  // w[m + 4 h] holds samples 8 h + m (first 8 floats) and 8 h + 4 + m.
  alignas(64) float w[8][16];
  for (int j0 = row.j_begin; j0 <= row.j_end; j0 += 16) {
    const int n = std::min(16, row.j_end + 1 - j0);
    const __mmask16 tail = static_cast<__mmask16>((1u << n) - 1);
    const __m512 jf = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_set1_epi32(j0), iota));
    const __m512 c_rot = _mm512_sub_ps(_mm512_mul_ps(jf, cos_t), i_sin);
    const __m512 r_rot = _mm512_add_ps(_mm512_mul_ps(jf, sin_t), i_cos);
    __m512 rbin = _mm512_sub_ps(_mm512_add_ps(r_rot, half_d), half);
    __m512 cbin = _mm512_sub_ps(_mm512_add_ps(c_rot, half_d), half);
    const __mmask16 in = tail & _mm512_cmp_ps_mask(rbin, lo, _CMP_GT_OQ) & _mm512_cmp_ps_mask(rbin, hi, _CMP_LT_OQ) &
                         _mm512_cmp_ps_mask(cbin, lo, _CMP_GT_OQ) & _mm512_cmp_ps_mask(cbin, hi, _CMP_LT_OQ);
    if (in == 0) continue;
    __m512 grad, a;
    Gradient16(row.up, row.mid, row.down, j0, in, atan_k, &grad, &a);
    __m512 obin = _mm512_mul_ps(_mm512_sub_ps(a, ori), bins_per_deg);
    const __m512 mag = _mm512_mul_ps(grad, _mm512_mul_ps(wy, _mm512_maskz_loadu_ps(in, row.wj + j0)));
    const __m512 rf = _mm512_floor_ps(rbin), cf = _mm512_floor_ps(cbin), of = _mm512_floor_ps(obin);
    const __m512i r0 = _mm512_cvtps_epi32(rf), c0 = _mm512_cvtps_epi32(cf);
    __m512i o0 = _mm512_cvtps_epi32(of);
    rbin = _mm512_sub_ps(rbin, rf);
    cbin = _mm512_sub_ps(cbin, cf);
    obin = _mm512_sub_ps(obin, of);
    o0 = _mm512_mask_add_epi32(o0, _mm512_cmplt_epi32_mask(o0, zero), o0, nbins);
    o0 = _mm512_mask_sub_epi32(o0, _mm512_cmpge_epi32_mask(o0, nbins), o0, nbins);
    const __m512 v_r1 = _mm512_mul_ps(mag, rbin), v_r0 = _mm512_sub_ps(mag, v_r1);
    const __m512 v_rc11 = _mm512_mul_ps(v_r1, cbin), v_rc10 = _mm512_sub_ps(v_r1, v_rc11);
    const __m512 v_rc01 = _mm512_mul_ps(v_r0, cbin), v_rc00 = _mm512_sub_ps(v_r0, v_rc01);
    const __m512 v111 = _mm512_mul_ps(v_rc11, obin), v110 = _mm512_sub_ps(v_rc11, v111);
    const __m512 v101 = _mm512_mul_ps(v_rc10, obin), v100 = _mm512_sub_ps(v_rc10, v101);
    const __m512 v011 = _mm512_mul_ps(v_rc01, obin), v010 = _mm512_sub_ps(v_rc01, v011);
    const __m512 v001 = _mm512_mul_ps(v_rc00, obin), v000 = _mm512_sub_ps(v_rc00, v001);
    const __m512i r1 = _mm512_add_epi32(r0, one);  // cell = (r0 + 1) 5 + c0 + 1
    const __m512i cell = _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(r1, 2), r1), _mm512_add_epi32(c0, one));
    static_assert(kBlockCols == 5, "cell index by shift and add");
    const __m512i index = _mm512_slli_epi32(_mm512_add_epi32(_mm512_slli_epi32(cell, 3), o0), 3);
    // All 16 lanes go to the histogram: a lane outside the cells (or past
    // the row) has magnitude 0, so its 8 values are 0, and is pointed at
    // block 0, where adding 0 changes nothing.
    _mm512_store_si512(idx, _mm512_maskz_mov_epi32(in, index));
    // Transpose the 8 value vectors into one 8-float block per sample: 4 x 4
    // within each 128-bit lane (sample 4 q + m of (v000, v001, v010, v011)
    // in a[m], of (v100 .. v111) in b[m], lane q), then the halves joined.
    const __m512 t0 = _mm512_unpacklo_ps(v000, v001), t1 = _mm512_unpackhi_ps(v000, v001);
    const __m512 t2 = _mm512_unpacklo_ps(v010, v011), t3 = _mm512_unpackhi_ps(v010, v011);
    const __m512 t4 = _mm512_unpacklo_ps(v100, v101), t5 = _mm512_unpackhi_ps(v100, v101);
    const __m512 t6 = _mm512_unpacklo_ps(v110, v111), t7 = _mm512_unpackhi_ps(v110, v111);
    const __m512 am[4] = {_mm512_shuffle_ps(t0, t2, 0x44), _mm512_shuffle_ps(t0, t2, 0xEE),
                          _mm512_shuffle_ps(t1, t3, 0x44), _mm512_shuffle_ps(t1, t3, 0xEE)};
    const __m512 bm[4] = {_mm512_shuffle_ps(t4, t6, 0x44), _mm512_shuffle_ps(t4, t6, 0xEE),
                          _mm512_shuffle_ps(t5, t7, 0x44), _mm512_shuffle_ps(t5, t7, 0xEE)};
    for (int m = 0; m < 4; ++m) {
      _mm512_store_ps(w[m], _mm512_permutex2var_ps(am[m], lo_lanes, bm[m]));
      _mm512_store_ps(w[m + 4], _mm512_permutex2var_ps(am[m], hi_lanes, bm[m]));
    }
#pragma GCC unroll 16
    for (int l = 0; l < 16; ++l) {
      const int q = l >> 2, m = l & 3;
      const float* src = w[m + 4 * (q >> 1)] + 8 * (q & 1);
      float* h = hist[l & (kDescCopies - 1)] + idx[l];
      _mm256_store_ps(h, _mm256_add_ps(_mm256_load_ps(h), _mm256_load_ps(src)));
    }
  }
}

// OpenCV's calcSIFTDescriptor. pt in the level's pixels, ori in degrees
// (OpenCV's 360 - angle), scl = keypoint scale there.
void Describe(const LevelView& g, float ptx, float pty, float ori, float scl, float* dst) {
  const int px = cvRound(ptx), py = cvRound(pty);
  float cos_t = cosf(ori * static_cast<float>(CV_PI / 180));
  float sin_t = sinf(ori * static_cast<float>(CV_PI / 180));
  const float hist_width = kDescSclFactor * scl;
  int radius = cvRound(hist_width * 1.4142135623730951f * (kDescWidth + 1) * 0.5f);
  radius = std::min(radius, static_cast<int>(std::sqrt(static_cast<double>(g.cols) * g.cols +
                                                       static_cast<double>(g.rows) * g.rows)));
  cos_t /= hist_width;
  sin_t /= hist_width;
  // OpenCV's weight exp(-(c_rot^2 + r_rot^2) / (d^2 / 2)), where c_rot^2 +
  // r_rot^2 = (i^2 + j^2) / hist_width^2 (a rotation keeps lengths).
  thread_local std::vector<float> weight;
  WeightTable(radius, -1.0f / (kDescWidth * kDescWidth * 0.5f) / (hist_width * hist_width), &weight);

  alignas(64) DescHist2 hist = {};
  const int y_begin = std::max(py - radius, 1), y_end = std::min(py + radius, g.rows - 2);
  const int x_begin = std::max(px - radius, 1), x_end = std::min(px + radius, g.cols - 2);
  const bool avx512 = UseAvx512();
  DescRow row;
  row.wj = weight.data() + radius;
  row.cos_t = cos_t;
  row.sin_t = sin_t;
  row.ori = ori;
  const float inv_cos = std::abs(cos_t) < 1e-12f ? 0.0f : 1.0f / cos_t;
  const float inv_sin = std::abs(sin_t) < 1e-12f ? 0.0f : 1.0f / sin_t;
  constexpr int kPrefetchRows = 4;
  for (int y = y_begin - 1; y <= std::min(y_end + 1, y_begin + kPrefetchRows); ++y) {
    PrefetchRowSpan(g.row(y), x_begin - 1, x_end + 1);
  }
  for (int y = y_begin; y <= y_end; ++y) {
    if (y + 1 + kPrefetchRows <= y_end + 1) PrefetchRowSpan(g.row(y + 1 + kPrefetchRows), x_begin - 1, x_end + 1);
    row.i = y - py;
    int j_lo, j_hi;
    CellColumns(row.i, cos_t, sin_t, inv_cos, inv_sin, &j_lo, &j_hi);
    row.j_begin = std::max(j_lo, x_begin - px);
    row.j_end = std::min(j_hi, x_end - px);
    if (row.j_begin > row.j_end) continue;
    row.wy = weight[row.i + radius];
    row.up = g.row(y - 1) + px;
    row.mid = g.row(y) + px;
    row.down = g.row(y + 1) + px;
    if (avx512) {
      DescriptorRowAvx512(row, hist);
    } else {
      DescriptorRowScalar(row, hist);
    }
  }
  for (int c = 1; c < kDescCopies; ++c) {
    for (int k = 0; k < kHistLen; ++k) hist[0][k] += hist[c][k];
  }
  // Bin (r, c, o) gathers element dr 4 + dc 2 + do of block (r - dr, c -
  // dc, o - do) (o circular); the guard rows and columns r, c = -1, 4 are
  // dropped, as OpenCV drops them. The 8 offsets per bin from a table.
  static const std::vector<uint16_t> kGather = [] {
    std::vector<uint16_t> t(kDescDim * kBlockLen);
    for (int i = 0; i < kDescWidth; ++i) {
      for (int j = 0; j < kDescWidth; ++j) {
        for (int k = 0; k < kDescBins; ++k) {
          for (int e = 0; e < kBlockLen; ++e) {
            const int dr = e >> 2, dc = (e >> 1) & 1, dof = e & 1;
            const int block = ((i - dr + 1) * kBlockCols + (j - dc + 1)) * kDescBins + ((k - dof + kDescBins) & 7);
            t[((i * kDescWidth + j) * kDescBins + k) * kBlockLen + e] = static_cast<uint16_t>(block * kBlockLen + e);
          }
        }
      }
    }
    return t;
  }();
  float raw[kDescDim];
  for (int b = 0; b < kDescDim; ++b) {
    const uint16_t* g = kGather.data() + b * kBlockLen;
    raw[b] = ((hist[0][g[0]] + hist[0][g[1]]) + (hist[0][g[2]] + hist[0][g[3]])) +
             ((hist[0][g[4]] + hist[0][g[5]]) + (hist[0][g[6]] + hist[0][g[7]]));
  }
  // Clamp at 0.2 of the norm, renormalise, scale by 512 (OpenCV).
  float nrm2 = 0;
  for (float v : raw) nrm2 += v * v;
  const float thr = std::sqrt(nrm2) * kDescMagThreshold;
  nrm2 = 0;
  for (float& v : raw) {
    v = std::min(v, thr);
    nrm2 += v * v;
  }
  const float scale = kIntDescFactor / std::max(std::sqrt(nrm2), FLT_EPSILON);
  for (int k = 0; k < kDescDim; ++k) dst[k] = static_cast<float>(cv::saturate_cast<uint8_t>(raw[k] * scale));
}

// ------------------------------------------------------------ blur

// Separable Gaussian with reflect-101 borders (cv::GaussianBlur's kernel
// size, weights and border for float images), both passes fused per output
// row so the intermediate row stays in L1, the symmetric taps folded
// ((a[-k] + a[k]) * w_k). Optionally also writes dog = dst - src, the DoG
// level whose upper Gaussian this is. Same values as cv::GaussianBlur to
// float rounding; 3-4x faster on one core (AVX-512).
struct BlurKernel {
  int radius = 0;
  std::vector<float> w;  // w[0] centre, w[k] the taps at +-k
};

BlurKernel GaussianKernelFor(double sigma) {
  BlurKernel k;
  const int ksize = cvRound(sigma * 4 * 2 + 1) | 1;  // OpenCV's size for float images
  const cv::Mat kernel = cv::getGaussianKernel(ksize, sigma, CV_32F);
  k.radius = ksize / 2;
  k.w.resize(k.radius + 1);
  for (int i = 0; i <= k.radius; ++i) k.w[i] = kernel.at<float>(k.radius + i);
  return k;
}

inline int Reflect101(int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; }

void BlurRowScalar(const float* const* rows, const BlurKernel& k, int cols, float* tmp, float* out) {
  const int r = k.radius;
  for (int x = 0; x < cols; ++x) {
    float acc = k.w[0] * rows[0][x];
    for (int i = 1; i <= r; ++i) acc += k.w[i] * (rows[2 * i - 1][x] + rows[2 * i][x]);
    tmp[r + x] = acc;
  }
  for (int i = 1; i <= r; ++i) {
    tmp[r - i] = tmp[r + i];
    tmp[r + cols - 1 + i] = tmp[r + cols - 1 - i];
  }
  for (int x = 0; x < cols; ++x) {
    const float* t = tmp + r + x;
    float acc = k.w[0] * t[0];
    for (int i = 1; i <= r; ++i) acc += k.w[i] * (t[-i] + t[i]);
    out[x] = acc;
  }
}

// Two output rows at once, vertical pass: rows y and y + 1 share 2 r of
// their 2 r + 1 source rows, so each source vector is fetched from L2 once
// for both (the pass is bound by those fetches, not by the arithmetic).
__attribute__((target("avx512f,avx512dq"))) void VerticalPairAvx512(const float* const* ra, const float* const* rb,
                                                                      const BlurKernel& k, int cols, float* ta,
                                                                      float* tb) {
  const int r = k.radius;
  int x = 0;
  for (; x + 16 <= cols; x += 16) {
    const __m512 w0 = _mm512_set1_ps(k.w[0]);
    __m512 acc_a = _mm512_mul_ps(w0, _mm512_loadu_ps(ra[0] + x));
    __m512 acc_b = _mm512_mul_ps(w0, _mm512_loadu_ps(rb[0] + x));
    for (int i = 1; i <= r; ++i) {
      const __m512 wi = _mm512_set1_ps(k.w[i]);
      acc_a = _mm512_fmadd_ps(wi, _mm512_add_ps(_mm512_loadu_ps(ra[2 * i - 1] + x), _mm512_loadu_ps(ra[2 * i] + x)),
                              acc_a);
      acc_b = _mm512_fmadd_ps(wi, _mm512_add_ps(_mm512_loadu_ps(rb[2 * i - 1] + x), _mm512_loadu_ps(rb[2 * i] + x)),
                              acc_b);
    }
    _mm512_storeu_ps(ta + r + x, acc_a);
    _mm512_storeu_ps(tb + r + x, acc_b);
  }
  for (; x < cols; ++x) {
    float acc_a = k.w[0] * ra[0][x], acc_b = k.w[0] * rb[0][x];
    for (int i = 1; i <= r; ++i) {
      acc_a += k.w[i] * (ra[2 * i - 1][x] + ra[2 * i][x]);
      acc_b += k.w[i] * (rb[2 * i - 1][x] + rb[2 * i][x]);
    }
    ta[r + x] = acc_a;
    tb[r + x] = acc_b;
  }
}

// Horizontal pass of a row whose vertical result is in tmp[r .. r + cols);
// with dog != nullptr also dog = out - in (the DoG row, while out is hot).
__attribute__((target("avx512f,avx512dq"))) void HorizontalAvx512(const BlurKernel& k, int cols, float* tmp,
                                                                    float* out, const float* in, float* dog) {
  const int r = k.radius;
  for (int i = 1; i <= r; ++i) {
    tmp[r - i] = tmp[r + i];
    tmp[r + cols - 1 + i] = tmp[r + cols - 1 - i];
  }
  int x = 0;
  for (; x + 16 <= cols; x += 16) {
    const float* t = tmp + r + x;
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(k.w[0]), _mm512_loadu_ps(t));
    for (int i = 1; i <= r; ++i) {
      acc = _mm512_fmadd_ps(_mm512_set1_ps(k.w[i]), _mm512_add_ps(_mm512_loadu_ps(t - i), _mm512_loadu_ps(t + i)),
                            acc);
    }
    _mm512_storeu_ps(out + x, acc);
    if (dog != nullptr) _mm512_storeu_ps(dog + x, _mm512_sub_ps(acc, _mm512_loadu_ps(in + x)));
  }
  for (; x < cols; ++x) {
    const float* t = tmp + r + x;
    float acc = k.w[0] * t[0];
    for (int i = 1; i <= r; ++i) acc += k.w[i] * (t[-i] + t[i]);
    out[x] = acc;
    if (dog != nullptr) dog[x] = acc - in[x];
  }
}

// One output row: the vertical pass into tmp, then the horizontal one.
__attribute__((target("avx512f,avx512dq"))) void BlurRowAvx512(const float* const* rows, const BlurKernel& k,
                                                                 int cols, float* tmp, float* out) {
  const int r = k.radius;
  int x = 0;
  for (; x + 16 <= cols; x += 16) {
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(k.w[0]), _mm512_loadu_ps(rows[0] + x));
    for (int i = 1; i <= r; ++i) {
      const __m512 pair = _mm512_add_ps(_mm512_loadu_ps(rows[2 * i - 1] + x), _mm512_loadu_ps(rows[2 * i] + x));
      acc = _mm512_fmadd_ps(_mm512_set1_ps(k.w[i]), pair, acc);
    }
    _mm512_storeu_ps(tmp + r + x, acc);
  }
  for (; x < cols; ++x) {
    float acc = k.w[0] * rows[0][x];
    for (int i = 1; i <= r; ++i) acc += k.w[i] * (rows[2 * i - 1][x] + rows[2 * i][x]);
    tmp[r + x] = acc;
  }
  HorizontalAvx512(k, cols, tmp, out, nullptr, nullptr);
}

void GaussianBlurFloat(const cv::Mat& src, double sigma, cv::Mat* dst, cv::Mat* dog) {
  const BlurKernel k = GaussianKernelFor(sigma);
  dst->create(src.size(), CV_32F);
  if (k.radius >= src.rows || k.radius >= src.cols) {
    // Reflections of reflections on tiny top octaves: OpenCV's own code.
    cv::GaussianBlur(src, *dst, cv::Size(), sigma, sigma);
    if (dog != nullptr) cv::subtract(*dst, src, *dog, cv::noArray(), CV_32F);
    return;
  }
  if (dog != nullptr) dog->create(src.size(), CV_32F);
  const bool avx512 = UseAvx512();
  std::vector<float> tmp(src.cols + 2 * k.radius), tmp_b(src.cols + 2 * k.radius);
  std::vector<const float*> rows(2 * k.radius + 1), rows_b(2 * k.radius + 1);
  auto source_rows = [&](int y, std::vector<const float*>* p) {
    (*p)[0] = src.ptr<float>(y);
    for (int i = 1; i <= k.radius; ++i) {
      (*p)[2 * i - 1] = src.ptr<float>(Reflect101(y - i, src.rows));
      (*p)[2 * i] = src.ptr<float>(Reflect101(y + i, src.rows));
    }
  };
  auto write_dog = [&](int y) {
    if (dog == nullptr) return;
    const float* in = src.ptr<float>(y);
    const float* out = dst->ptr<float>(y);
    float* d = dog->ptr<float>(y);
    for (int x = 0; x < src.cols; ++x) d[x] = out[x] - in[x];
  };
  for (int y = 0; y < src.rows;) {
    source_rows(y, &rows);
    if (avx512 && y + 1 < src.rows) {
      source_rows(y + 1, &rows_b);
      VerticalPairAvx512(rows.data(), rows_b.data(), k, src.cols, tmp.data(), tmp_b.data());
      HorizontalAvx512(k, src.cols, tmp.data(), dst->ptr<float>(y), src.ptr<float>(y),
                       dog != nullptr ? dog->ptr<float>(y) : nullptr);
      HorizontalAvx512(k, src.cols, tmp_b.data(), dst->ptr<float>(y + 1), src.ptr<float>(y + 1),
                       dog != nullptr ? dog->ptr<float>(y + 1) : nullptr);
      y += 2;
      continue;
    }
    if (avx512) {
      BlurRowAvx512(rows.data(), k, src.cols, tmp.data(), dst->ptr<float>(y));
    } else {
      BlurRowScalar(rows.data(), k, src.cols, tmp.data(), dst->ptr<float>(y));
    }
    write_dog(y);
    ++y;
  }
}

#pragma GCC diagnostic pop

// ------------------------------------------------------------ pyramid

struct Workspace {
  std::vector<cv::Mat> gauss, dog;  // Mat::create reuses a buffer of the same size
  cv::Mat gray_f, doubled;
};

// OpenCV's createInitialImage (double size) + buildGaussianPyramid +
// buildDoGPyramid: the same resampling and sigma schedule, our blur.
void BuildPyramids(const cv::Mat& gray, const SiftOptions& options, Workspace* ws, int* num_octaves) {
  std::vector<cv::Mat>* gauss = &ws->gauss;
  std::vector<cv::Mat>* dog = &ws->dog;
  const int layers = options.octave_layers;
  const float sigma = static_cast<float>(options.sigma);
  cv::Mat& gray_f = ws->gray_f;
  cv::Mat& doubled = ws->doubled;
  gray.convertTo(gray_f, CV_32F);
  const float sig_diff = sqrtf(std::max(sigma * sigma - kInitSigma * kInitSigma * 4, 0.01f));
  cv::resize(gray_f, doubled, cv::Size(gray_f.cols * 2, gray_f.rows * 2), 0, 0, cv::INTER_LINEAR);
  const int octaves =
      cvRound(std::log(static_cast<double>(std::min(doubled.cols, doubled.rows))) / std::log(2.) - 2) + 1;
  *num_octaves = std::max(octaves, 0);
  std::vector<double> sig(layers + 3);
  sig[0] = options.sigma;
  const double k = std::pow(2., 1. / layers);
  for (int i = 1; i < layers + 3; ++i) {
    const double sig_prev = std::pow(k, static_cast<double>(i - 1)) * options.sigma;
    const double sig_total = sig_prev * k;
    sig[i] = std::sqrt(sig_total * sig_total - sig_prev * sig_prev);
  }
  gauss->resize(static_cast<size_t>(*num_octaves) * (layers + 3));
  dog->resize(static_cast<size_t>(*num_octaves) * (layers + 2));
  for (int o = 0; o < *num_octaves; ++o) {
    for (int i = 0; i < layers + 3; ++i) {
      cv::Mat& dst = (*gauss)[o * (layers + 3) + i];
      if (o == 0 && i == 0) {
        GaussianBlurFloat(doubled, sig_diff, &dst, nullptr);
      } else if (i == 0) {
        const cv::Mat& src = (*gauss)[(o - 1) * (layers + 3) + layers];
        cv::resize(src, dst, cv::Size(src.cols / 2, src.rows / 2), 0, 0, cv::INTER_NEAREST);
      } else {
        // DoG level i - 1 = this level - the one below, written as it goes.
        GaussianBlurFloat((*gauss)[o * (layers + 3) + i - 1], sig[i], &dst, &(*dog)[o * (layers + 2) + i - 1]);
      }
    }
  }
}

double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

// Strongest first, then y, x, size, angle: extractor.cc's StrongerFirst.
bool KeypointBefore(const SiftKeypoint& a, const SiftKeypoint& b) {
  if (a.response != b.response) return a.response > b.response;
  if (a.y != b.y) return a.y < b.y;
  if (a.x != b.x) return a.x < b.x;
  if (a.size != b.size) return a.size < b.size;
  if (a.angle_deg != b.angle_deg) return a.angle_deg < b.angle_deg;
  return a.octave < b.octave;
}

}  // namespace

absl::Status SiftOptions::Validate() const {
  if (max_features < 0) {
    return absl::InvalidArgumentError(absl::StrCat("SiftOptions::max_features = ", max_features, "; must be >= 0"));
  }
  if (octave_layers < 1 || octave_layers > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("SiftOptions::octave_layers = ", octave_layers, "; must be in [1, 10]"));
  }
  if (!(contrast_threshold > 0) || !std::isfinite(contrast_threshold)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SiftOptions::contrast_threshold = ", contrast_threshold, "; must be finite and > 0"));
  }
  if (!(edge_threshold > 0) || !std::isfinite(edge_threshold)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SiftOptions::edge_threshold = ", edge_threshold, "; must be finite and > 0"));
  }
  if (!(sigma > 0) || !std::isfinite(sigma)) {
    return absl::InvalidArgumentError(absl::StrCat("SiftOptions::sigma = ", sigma, "; must be finite and > 0"));
  }
  return absl::OkStatus();
}

bool SiftUsesAvx512() { return UseAvx512(); }

void SiftForceScalarForTesting(bool force) { g_force_scalar.store(force, std::memory_order_relaxed); }

absl::Status DetectAndDescribeSift(const uint8_t* gray, int width, int height, size_t stride_bytes,
                                   const uint8_t* mask, const SiftOptions& options, SiftOutput* out) {
  if (out == nullptr) return absl::InvalidArgumentError("DetectAndDescribeSift: out is null");
  out->keypoints.clear();
  out->descriptors.clear();
  if (gray == nullptr) return absl::InvalidArgumentError("DetectAndDescribeSift: image data is null");
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DetectAndDescribeSift: image is ", width, "x", height, "; width and height must be > 0"));
  }
  if (stride_bytes < static_cast<size_t>(width)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DetectAndDescribeSift: stride_bytes = ", stride_bytes, " < width = ", width));
  }
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  try {
    const int layers = options.octave_layers;
    const float sigma = static_cast<float>(options.sigma);
    const cv::Mat image(height, width, CV_8UC1, const_cast<uint8_t*>(gray), stride_bytes);
    // Per-thread buffers, reused from call to call: a 640 x 480 query's
    // scale space is ~50 MB, and fresh pages cost more than filling them.
    thread_local Workspace ws;
    std::vector<cv::Mat>& gauss = ws.gauss;
    std::vector<cv::Mat>& dog = ws.dog;
    int num_octaves = 0;
    double t0 = ThreadCpuMs();
    BuildPyramids(image, options, &ws, &num_octaves);
    double t1 = ThreadCpuMs();
    out->pyramid_ms = t1 - t0;
    t0 = t1;

    // Extrema with pixel accuracy, refined (OpenCV's findScaleSpaceExtrema).
    const float threshold =
        static_cast<float>(cvFloor(0.5 * options.contrast_threshold / layers * 255));  // an int in OpenCV
    const bool avx512 = UseAvx512();
    std::vector<Candidate> candidates;
    std::vector<int> cols;
    for (int o = 0; o < num_octaves; ++o) {
      const int rows = dog[o * (layers + 2)].rows, width = dog[o * (layers + 2)].cols;
      const ptrdiff_t step = static_cast<ptrdiff_t>(dog[o * (layers + 2)].step1());
      // Rows outside, layers inside: a DoG row is then read from memory once
      // for the up-to-three layers that test against it (the scan is bound
      // by memory, not by the comparisons).
      for (int r = kImageBorder; r < rows - kImageBorder; ++r) {
        for (int i = 1; i <= layers; ++i) {
          const int idx = o * (layers + 2) + i;
          cols.clear();
          const float* cur = dog[idx].ptr<float>(r);
          const float* prev = dog[idx - 1].ptr<float>(r);
          const float* next = dog[idx + 1].ptr<float>(r);
          if (avx512) {
            ScanRowAvx512(prev, cur, next, step, kImageBorder, width - kImageBorder, threshold, &cols);
          } else {
            ScanRowScalar(prev, cur, next, step, kImageBorder, width - kImageBorder, threshold, &cols);
          }
          for (int c : cols) {
            Candidate cand;
            if (AdjustLocalExtremum(dog, o, layers, static_cast<float>(options.contrast_threshold),
                                    static_cast<float>(options.edge_threshold), sigma, i, r, c, &cand)) {
              candidates.push_back(cand);
            }
          }
        }
      }
    }
    // Several starting pixels can converge on one refined extremum: OpenCV
    // removes the identical keypoints afterwards (removeDuplicatedSorted),
    // we before the orientation work.
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return std::tie(a.o, a.layer, a.r, a.c) < std::tie(b.o, b.layer, b.r, b.c);
    });
    candidates.erase(std::unique(candidates.begin(), candidates.end(),
                                 [](const Candidate& a, const Candidate& b) {
                                   return a.o == b.o && a.layer == b.layer && a.r == b.r && a.c == b.c;
                                 }),
                     candidates.end());
    if (mask != nullptr) {
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [&](const Candidate& cand) {
                                        const int mx = static_cast<int>(cand.kp.x + 0.5f);
                                        const int my = static_cast<int>(cand.kp.y + 0.5f);
                                        return mx < 0 || my < 0 || mx >= width || my >= height ||
                                               mask[static_cast<size_t>(my) * width + mx] == 0;
                                      }),
                       candidates.end());
    }
    // The cut before orientation: every orientation of a candidate shares
    // its response, position and size, so taking candidates in that order
    // until max_features keypoints exist gives the strongest max_features.
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return KeypointBefore(a.kp, b.kp); });
    t1 = ThreadCpuMs();
    out->extrema_ms = t1 - t0;
    t0 = t1;
    const size_t wanted = options.max_features > 0 ? static_cast<size_t>(options.max_features) : SIZE_MAX;
    std::vector<Candidate> oriented;
    // Candidates in chunks that cannot overshoot the cut by much (each
    // gives >= 1 keypoint); within a chunk in pyramid-level and row order,
    // so that neighbouring windows share the gradient rows in cache.
    std::vector<const Candidate*> chunk;
    for (size_t next = 0; next < candidates.size() && oriented.size() < wanted;) {
      const size_t take = std::min(candidates.size() - next, wanted - oriented.size());
      chunk.clear();
      for (size_t k = next; k < next + take; ++k) chunk.push_back(&candidates[k]);
      next += take;
      std::sort(chunk.begin(), chunk.end(), [](const Candidate* a, const Candidate* b) {
        return std::tie(a->o, a->layer, a->r, a->c) < std::tie(b->o, b->layer, b->r, b->c);
      });
      for (const Candidate* cand : chunk) {
        AssignOrientations(ViewOf(gauss[cand->o * (layers + 3) + cand->layer]), *cand, &oriented);
      }
    }
    std::sort(oriented.begin(), oriented.end(),
              [](const Candidate& a, const Candidate& b) { return KeypointBefore(a.kp, b.kp); });
    if (oriented.size() > wanted) oriented.resize(wanted);

    t1 = ThreadCpuMs();
    out->orientation_ms = t1 - t0;
    t0 = t1;
    out->keypoints.resize(oriented.size());
    out->descriptors.resize(oriented.size() * kDescDim);
    // Described in level and row order too (cache), stored in rank order.
    std::vector<int> order(oriented.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      const Candidate& p = oriented[a];
      const Candidate& q = oriented[b];
      return std::tie(p.o, p.layer, p.r, p.c, a) < std::tie(q.o, q.layer, q.r, q.c, b);
    });
    for (int k : order) {
      const Candidate& cand = oriented[k];
      out->keypoints[k] = cand.kp;
      // OpenCV's calcDescriptors: back to the octave's grid (octave o - 1 of
      // the rescaled keypoint), orientation 360 - angle.
      const int octave = cand.o - 1;
      const float scale = octave >= 0 ? 1.0f / static_cast<float>(1 << octave) : static_cast<float>(1 << -octave);
      float angle = 360.0f - cand.kp.angle_deg;
      if (std::abs(angle - 360.0f) < FLT_EPSILON) angle = 0.0f;
      const int level = cand.o * (layers + 3) + cand.layer;
      Describe(ViewOf(gauss[level]), cand.kp.x * scale, cand.kp.y * scale, angle, cand.kp.size * scale * 0.5f,
               out->descriptors.data() + static_cast<size_t>(k) * kDescDim);
    }
    out->descriptor_ms = ThreadCpuMs() - t0;
    return absl::OkStatus();
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat("SIFT on a ", width, "x", height, " image failed: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("SIFT on a ", width, "x", height, " image failed: ", e.what()));
  }
}

}  // namespace armap::features::internal
