#include "datasets/synthetic/city_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <Eigen/Geometry>

#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "datasets/synthetic/shop_names.h"

namespace armap::synth {
namespace {

// Random streams: one per concern, so adding clutter never changes buildings.
enum Stream : uint64_t { kStreets = 1, kBuildings, kSigns, kClutter, kSun, kStyles };

using Vec2 = Eigen::Vector2d;

Vec2 Rotate(const Vec2& p, double angle_rad) {
  const double c = std::cos(angle_rad), s = std::sin(angle_rad);
  return {c * p.x() - s * p.y(), s * p.x() + c * p.y()};
}

std::vector<Vec2> RectPolygon(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

struct Interval { double lo, hi; };

// Free intervals along one axis between street corridors (sidewalk outer edges).
std::vector<Interval> FreeIntervals(const std::vector<const Street*>& streets, double half) {
  std::vector<Interval> out;
  double lo = -half;
  for (const Street* s : streets) {
    out.push_back({lo, s->position_m - s->OuterEdgeOffset()});
    lo = s->position_m + s->OuterEdgeOffset();
  }
  out.push_back({lo, half});
  return out;
}

// Building heights: mostly low and mid-rise, a few towers (6..120 m).
double SampleHeight(Rng& rng) { return 6.0 + 114.0 * std::pow(rng.Uniform(), 2.6); }

FacadeStyle SampleStyle(Rng& rng, double height_m) {
  FacadeStyle s;
  s.material_patch = rng.UniformInt(0, 1 << 20);
  // Facade palettes seen in southern Chinese streets: tile whites, greys,
  // beiges, brick reds, glass blues.
  static const Eigen::Vector3d kPalette[] = {{0.82, 0.80, 0.76}, {0.70, 0.68, 0.64}, {0.78, 0.70, 0.58},
                                             {0.62, 0.40, 0.32}, {0.55, 0.56, 0.58}, {0.86, 0.84, 0.80},
                                             {0.74, 0.62, 0.50}, {0.48, 0.50, 0.52}, {0.80, 0.76, 0.66}};
  s.base_rgb = kPalette[rng.UniformInt(0, 8)] * rng.Uniform(0.85, 1.08);
  s.floor_height_m = rng.Uniform(2.9, 3.8);
  s.ground_floor_height_m = rng.Uniform(4.2, 5.2);
  s.window_spacing_m = rng.Uniform(2.2, 4.2);
  s.window_width_frac = rng.Uniform(0.35, 0.75);
  s.window_height_frac = rng.Uniform(0.4, 0.7);
  s.glass_rgb = Eigen::Vector3d(rng.Uniform(0.08, 0.2), rng.Uniform(0.12, 0.25), rng.Uniform(0.15, 0.32));
  s.frame_rgb = Eigen::Vector3d::Constant(rng.Uniform(0.15, 0.8));
  s.texture_scale_m = rng.Uniform(2.5, 6.0);
  s.weathering = rng.Uniform(0.2, 1.0);
  s.curtain_wall = height_m > 50.0 && rng.Bernoulli(0.5);
  if (s.curtain_wall) {
    s.window_width_frac = rng.Uniform(0.8, 0.92);
    s.window_height_frac = rng.Uniform(0.75, 0.9);
    s.window_spacing_m = rng.Uniform(1.5, 2.2);
  }
  return s;
}

// Builds one building inside the lot [x0,x1]x[y0,y1] (already inset).
Building MakeBuilding(int id, Rng& rng, double x0, double y0, double x1, double y1) {
  Building b;
  b.id = id;
  const double lot_w = x1 - x0, lot_d = y1 - y0;
  const Vec2 centre(0.5 * (x0 + x1), 0.5 * (y0 + y1));
  const double u = rng.Uniform();
  b.shape = u < 0.32 ? "rect" : u < 0.47 ? "rotated" : u < 0.67 ? "L" : u < 0.82 ? "U" : "setback";
  const int quarter_turns = (b.shape == "L" || b.shape == "U") ? rng.UniformInt(0, 3) : 0;
  const double tilt = b.shape == "rotated" ? (rng.Bernoulli(0.5) ? 1 : -1) * rng.Uniform(8, 25) * M_PI / 180 : 0.0;
  const double angle = tilt + quarter_turns * M_PI / 2;
  // Local extents; swapped when a quarter turn maps local x onto lot y.
  double w = (quarter_turns % 2 ? lot_d : lot_w) * rng.Uniform(0.8, 1.0);
  double d = (quarter_turns % 2 ? lot_w : lot_d) * rng.Uniform(0.8, 1.0);
  const double h = SampleHeight(rng);

  std::vector<Vec2> outline;
  std::vector<std::pair<std::vector<Vec2>, double>> parts;  // local rects, top
  if (b.shape == "rect" || b.shape == "rotated") {
    outline = RectPolygon(-w / 2, -d / 2, w / 2, d / 2);
    parts.push_back({outline, h});
  } else if (b.shape == "L") {
    const double a = w * rng.Uniform(0.4, 0.6), c = d * rng.Uniform(0.4, 0.6);
    outline = {{-w / 2, -d / 2}, {w / 2, -d / 2}, {w / 2, d / 2 - c}, {w / 2 - a, d / 2 - c}, {w / 2 - a, d / 2}, {-w / 2, d / 2}};
    const double h2 = rng.Bernoulli(0.45) ? std::max(6.0, h * rng.Uniform(0.45, 0.8)) : h;
    parts.push_back({RectPolygon(-w / 2, -d / 2, w / 2, d / 2 - c), h});
    parts.push_back({RectPolygon(-w / 2, d / 2 - c, w / 2 - a, d / 2), h2});
  } else if (b.shape == "U") {
    const double notch_w = w * rng.Uniform(0.3, 0.45), notch_d = d * rng.Uniform(0.35, 0.5);
    outline = {{-w / 2, -d / 2}, {w / 2, -d / 2}, {w / 2, d / 2}, {notch_w / 2, d / 2}, {notch_w / 2, d / 2 - notch_d},
               {-notch_w / 2, d / 2 - notch_d}, {-notch_w / 2, d / 2}, {-w / 2, d / 2}};
    const double h_arms = rng.Bernoulli(0.4) ? std::max(6.0, h * rng.Uniform(0.5, 0.8)) : h;
    parts.push_back({RectPolygon(-w / 2, -d / 2, w / 2, d / 2 - notch_d), h});
    parts.push_back({RectPolygon(-w / 2, d / 2 - notch_d, -notch_w / 2, d / 2), h_arms});
    parts.push_back({RectPolygon(notch_w / 2, d / 2 - notch_d, w / 2, d / 2), h_arms});
  } else {  // setback: a podium with a tower on it
    outline = RectPolygon(-w / 2, -d / 2, w / 2, d / 2);
    const double podium = rng.Uniform(6.0, 18.0);
    const double tw = w * rng.Uniform(0.4, 0.7), td = d * rng.Uniform(0.4, 0.7);
    const Vec2 off(rng.Uniform(-0.5, 0.5) * (w - tw), rng.Uniform(-0.5, 0.5) * (d - td));
    parts.push_back({outline, podium});
    parts.push_back({RectPolygon(off.x() - tw / 2, off.y() - td / 2, off.x() + tw / 2, off.y() + td / 2),
                     podium + rng.Uniform(10.0, 90.0)});
  }
  // Rotate, then shrink uniformly until the rotated outline fits the lot.
  Eigen::AlignedBox2d box;
  for (const Vec2& p : outline) box.extend(Rotate(p, angle));
  const double fit = std::min({1.0, lot_w / box.sizes().x(), lot_d / box.sizes().y()});
  const Vec2 slack((lot_w - fit * box.sizes().x()) * 0.5, (lot_d - fit * box.sizes().y()) * 0.5);
  const Vec2 shift = centre + Vec2(rng.Uniform(-1, 1) * slack.x(), rng.Uniform(-1, 1) * slack.y());
  auto place = [&](const Vec2& p) { return Vec2(Rotate(p * fit, angle) + shift); };
  for (const Vec2& p : outline) b.footprint.push_back(place(p));
  for (auto& [rect, top] : parts) {
    BuildingPart part;
    for (const Vec2& p : rect) part.polygon.push_back(place(p));
    part.top_m = top;
    b.height_m = std::max(b.height_m, top);
    b.parts.push_back(std::move(part));
  }
  return b;
}

void AddWalkNetwork(City& city) {
  std::vector<const Street*> xs, ys;  // xs: streets along y at x = position; ys: along x
  for (const Street& s : city.streets) (s.along_x ? ys : xs).push_back(&s);
  const double half = city.half_size_m;
  std::map<std::tuple<long, long>, int> node_ids;
  auto node = [&](double x, double y) {
    const auto key = std::make_tuple(std::lround(x * 1000), std::lround(y * 1000));
    auto it = node_ids.find(key);
    if (it != node_ids.end()) return it->second;
    const int id = static_cast<int>(city.walk_nodes.size());
    city.walk_nodes.push_back({id, Vec2(x, y)});
    node_ids[key] = id;
    return id;
  };
  auto add_line = [&](const std::vector<std::pair<Vec2, bool>>& stops, double width_m) {
    // stops: positions along one sidewalk centreline; flag = "segment from the
    // previous stop crosses a carriageway".
    for (size_t k = 1; k < stops.size(); ++k) {
      const int a = node(stops[k - 1].first.x(), stops[k - 1].first.y());
      const int b = node(stops[k].first.x(), stops[k].first.y());
      city.walk_edges.push_back({static_cast<int>(city.walk_edges.size()), a, b,
                                 stops[k].second ? "crossing" : "sidewalk", width_m});
    }
  };
  for (const Street* v : xs) {
    for (int sx : {-1, 1}) {
      const double x = v->position_m + sx * v->SidewalkCentreOffset();
      std::vector<std::pair<Vec2, bool>> stops{{Vec2(x, -half), false}};
      for (const Street* h : ys) {
        stops.push_back({Vec2(x, h->position_m - h->SidewalkCentreOffset()), false});
        stops.push_back({Vec2(x, h->position_m + h->SidewalkCentreOffset()), true});
      }
      stops.push_back({Vec2(x, half), false});
      add_line(stops, v->sidewalk_width_m);
    }
  }
  for (const Street* h : ys) {
    for (int sy : {-1, 1}) {
      const double y = h->position_m + sy * h->SidewalkCentreOffset();
      std::vector<std::pair<Vec2, bool>> stops{{Vec2(-half, y), false}};
      for (const Street* v : xs) {
        stops.push_back({Vec2(v->position_m - v->SidewalkCentreOffset(), y), false});
        stops.push_back({Vec2(v->position_m + v->SidewalkCentreOffset(), y), true});
      }
      stops.push_back({Vec2(half, y), false});
      add_line(stops, h->sidewalk_width_m);
    }
  }
}

// Rounded-corner polyline through `corners`, sampled every `step_m`.
std::vector<Vec2> RoundedPath(const std::vector<Vec2>& corners, bool closed, double radius_m, double step_m) {
  std::vector<Vec2> out;
  const size_t n = corners.size();
  auto emit_segment = [&](const Vec2& a, const Vec2& b) {
    const double len = (b - a).norm();
    const int steps = std::max(1, static_cast<int>(std::ceil(len / step_m)));
    for (int k = 0; k < steps; ++k) out.push_back(a + (b - a) * (static_cast<double>(k) / steps));
  };
  // Each corner i becomes an arc from corner - r*d_in to corner + r*d_out.
  std::vector<Vec2> arc_start(n), arc_end(n);
  for (size_t i = 0; i < n; ++i) {
    const bool endpoint = !closed && (i == 0 || i + 1 == n);
    if (endpoint) {
      arc_start[i] = arc_end[i] = corners[i];
      continue;
    }
    const Vec2 d_in = (corners[i] - corners[(i + n - 1) % n]).normalized();
    const Vec2 d_out = (corners[(i + 1) % n] - corners[i]).normalized();
    arc_start[i] = corners[i] - radius_m * d_in;
    arc_end[i] = corners[i] + radius_m * d_out;
  }
  const size_t num_segments = closed ? n : n - 1;
  for (size_t i = 0; i < num_segments; ++i) {
    const size_t j = (i + 1) % n;
    // Quadratic Bezier through the corner approximates the arc closely.
    if (arc_start[i] != arc_end[i]) {
      const int steps = std::max(4, static_cast<int>(std::ceil(1.6 * radius_m / step_m)));
      for (int k = 0; k < steps; ++k) {
        const double t = static_cast<double>(k) / steps;
        out.push_back((1 - t) * (1 - t) * arc_start[i] + 2 * (1 - t) * t * corners[i] + t * t * arc_end[i]);
      }
    }
    emit_segment(arc_end[i], arc_start[j]);
  }
  if (!closed) out.push_back(corners.back());
  return out;
}

}  // namespace

absl::Status CityOptions::Validate() const {
  if (!(size_m >= 60.0 && size_m <= 2000.0)) {
    return absl::InvalidArgumentError(absl::StrCat("CityOptions::size_m = ", size_m, "; must be in [60, 2000]"));
  }
  if (!(std::abs(origin.lat_deg) <= 85.0) || !(std::abs(origin.lon_deg) <= 180.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CityOptions::origin = (", origin.lat_deg, ", ", origin.lon_deg, "); not a valid WGS84 position"));
  }
  return absl::OkStatus();
}

bool Building::IsLod2() const {
  for (const BuildingPart& p : parts) {
    if (std::abs(p.top_m - height_m) > 0.5) return true;
  }
  return false;
}

double Route::LengthM() const {
  double len = 0;
  for (size_t i = 1; i < points.size(); ++i) len += (points[i] - points[i - 1]).norm();
  if (closed && points.size() > 1) len += (points.front() - points.back()).norm();
  return len;
}

void Route::Sample(double s_m, Eigen::Vector2d* position, Eigen::Vector2d* heading) const {
  const double total = LengthM();
  if (closed) s_m = std::fmod(std::fmod(s_m, total) + total, total);
  s_m = std::clamp(s_m, 0.0, total);
  const size_t n = points.size();
  const size_t num_segments = closed ? n : n - 1;
  double acc = 0;
  for (size_t i = 0; i < num_segments; ++i) {
    const Vec2& a = points[i];
    const Vec2& b = points[(i + 1) % n];
    const double len = (b - a).norm();
    if (acc + len >= s_m || i + 1 == num_segments) {
      const double t = len > 0 ? std::clamp((s_m - acc) / len, 0.0, 1.0) : 0.0;
      *position = a + t * (b - a);
      *heading = (b - a).normalized();
      return;
    }
    acc += len;
  }
  *position = points.back();
  *heading = (points.back() - points[n - 2]).normalized();
}

const Street* City::StreetAt(const Eigen::Vector2d& p) const {
  const Street* best = nullptr;
  double best_d = 1e18;
  for (const Street& s : streets) {
    const double d = std::abs((s.along_x ? p.y() : p.x()) - s.position_m);
    if (d < s.OuterEdgeOffset() && d < best_d) {
      best = &s;
      best_d = d;
    }
  }
  return best;
}

City::Ground City::GroundAt(const Eigen::Vector2d& p) const {
  bool on_road = false, on_sidewalk = false, in_crossing_band_x = false, in_crossing_band_y = false;
  bool road_x = false, road_y = false;  // on a carriageway running along x / along y
  for (const Street& s : streets) {
    const double d = std::abs((s.along_x ? p.y() : p.x()) - s.position_m);
    if (d < s.road_half_width_m) {
      on_road = true;
      (s.along_x ? road_x : road_y) = true;
    } else if (d < s.OuterEdgeOffset()) {
      on_sidewalk = true;
      // The sidewalk band of a street extended across perpendicular roads.
      (s.along_x ? in_crossing_band_x : in_crossing_band_y) = true;
    }
  }
  if (on_road) {
    if ((road_x && !road_y && in_crossing_band_y) || (road_y && !road_x && in_crossing_band_x)) return Ground::kCrossing;
    return Ground::kRoad;
  }
  return on_sidewalk ? Ground::kSidewalk : Ground::kLot;
}

City GenerateCity(const CityOptions& options) {
  City city;
  city.options = options;
  const double half = options.size_m / 2;
  city.half_size_m = half;

  // Streets: n per direction, evenly spaced, ~100 m apart.
  Rng street_rng(options.seed, kStreets);
  const int n = std::max(1, static_cast<int>(std::lround(options.size_m / 100.0)));
  for (int axis = 0; axis < 2; ++axis) {
    for (int k = 0; k < n; ++k) {
      Street s;
      s.id = static_cast<int>(city.streets.size());
      s.along_x = axis == 0;
      s.position_m = -half + (k + 0.5) * options.size_m / n + street_rng.Uniform(-1.5, 1.5);
      s.road_half_width_m = street_rng.Uniform(5.0, 7.5);
      s.sidewalk_width_m = street_rng.Uniform(3.5, 5.0);
      s.name = kStreetNames[(s.id + street_rng.UniformInt(0, 11)) % kStreetNames.size()];
      city.streets.push_back(s);
    }
  }
  std::vector<const Street*> xs, ys;
  for (const Street& s : city.streets) (s.along_x ? ys : xs).push_back(&s);

  // Blocks between corridors, split into at most 2x2 lots so that every lot
  // touches the block edge (no invisible interior buildings).
  Rng building_rng(options.seed, kBuildings);
  for (const Interval& bx : FreeIntervals(xs, half)) {
    for (const Interval& by : FreeIntervals(ys, half)) {
      const double w = bx.hi - bx.lo, d = by.hi - by.lo;
      if (w < 12 || d < 12) continue;
      const int cols = std::clamp(static_cast<int>(std::lround(w / 36.0)), 1, 2);
      const int rows = std::clamp(static_cast<int>(std::lround(d / 36.0)), 1, 2);
      for (int c = 0; c < cols; ++c) {
        for (int r = 0; r < rows; ++r) {
          const double gap = 2.0;  // half the gap between neighbours / to the sidewalk
          const double x0 = bx.lo + c * w / cols + gap + building_rng.Uniform(0, 1.5);
          const double x1 = bx.lo + (c + 1) * w / cols - gap - building_rng.Uniform(0, 1.5);
          const double y0 = by.lo + r * d / rows + gap + building_rng.Uniform(0, 1.5);
          const double y1 = by.lo + (r + 1) * d / rows - gap - building_rng.Uniform(0, 1.5);
          if (x1 - x0 < 8 || y1 - y0 < 8) continue;
          city.buildings.push_back(
              MakeBuilding(static_cast<int>(city.buildings.size()), building_rng, x0, y0, x1, y1));
        }
      }
    }
  }
  Rng style_rng(options.seed, kStyles);
  for (Building& b : city.buildings) b.style = SampleStyle(style_rng, b.height_m);

  // Shop signs on ground-floor walls that face a street.
  Rng sign_rng(options.seed, kSigns);
  std::vector<int> name_order(kShopNames.size());
  for (size_t i = 0; i < name_order.size(); ++i) name_order[i] = static_cast<int>(i);
  for (size_t i = name_order.size() - 1; i > 0; --i) std::swap(name_order[i], name_order[sign_rng.UniformInt(0, static_cast<int>(i))]);
  size_t next_name = 0;
  for (const Building& b : city.buildings) {
    for (size_t i = 0; i < b.footprint.size(); ++i) {
      const Vec2 a = b.footprint[i], c = b.footprint[(i + 1) % b.footprint.size()];
      const double len = (c - a).norm();
      if (len < 6.0) continue;
      const Vec2 along = (c - a) / len;
      const Vec2 outward(along.y(), -along.x());  // CCW outline: right of the edge is outside
      const Vec2 mid = 0.5 * (a + c);
      bool faces_street = false;
      for (const Street& s : city.streets) {
        const double normal_component = s.along_x ? outward.y() : outward.x();
        const double gap = s.position_m - (s.along_x ? mid.y() : mid.x());
        if (std::abs(normal_component) > 0.85 && gap * normal_component > 0 && std::abs(gap) < 22.0) faces_street = true;
      }
      if (!faces_street) continue;
      const int count = std::clamp(static_cast<int>(len / 9.0), 1, 3);
      for (int k = 0; k < count && next_name < name_order.size(); ++k) {
        if (!sign_rng.Bernoulli(0.85)) continue;
        const ShopName& shop = kShopNames[name_order[next_name++]];
        Sign s;
        s.id = static_cast<int>(city.signs.size());
        s.building_id = b.id;
        s.name_zh = shop.zh;
        s.name_en = shop.en;
        s.category = shop.category;
        s.width_m = std::min(len / count - 1.0, sign_rng.Uniform(3.2, 5.5));
        s.height_m = sign_rng.Uniform(0.9, 1.3);
        const double t = (k + 0.5) / count;
        const Vec2 on_wall = a + along * (t * len);
        s.outward = Eigen::Vector3d(outward.x(), outward.y(), 0);
        s.centre = Eigen::Vector3d(on_wall.x(), on_wall.y(), b.style.ground_floor_height_m - 0.75) + 0.12 * s.outward;
        static const Eigen::Vector3d kBackgrounds[] = {{0.75, 0.08, 0.08}, {0.05, 0.25, 0.6}, {0.08, 0.45, 0.2},
                                                       {0.95, 0.95, 0.92}, {0.1, 0.1, 0.12}, {0.95, 0.7, 0.1},
                                                       {0.5, 0.1, 0.45}};
        s.background_rgb = kBackgrounds[sign_rng.UniformInt(0, 6)];
        const bool light_bg = s.background_rgb.mean() > 0.6;
        s.text_rgb = light_bg ? Eigen::Vector3d(0.7, 0.05, 0.05) : Eigen::Vector3d(1.0, 0.97, 0.9);
        if (light_bg && sign_rng.Bernoulli(0.5)) s.text_rgb = Eigen::Vector3d(0.05, 0.05, 0.1);
        city.signs.push_back(s);
      }
    }
  }

  // Clutter along sidewalks: trees, lamp poles, parked cars.
  Rng clutter_rng(options.seed, kClutter);
  auto near_intersection = [&](const Street& s, double along_m, double margin_m) {
    for (const Street& o : city.streets) {
      if (o.along_x == s.along_x) continue;
      if (std::abs(along_m - o.position_m) < o.OuterEdgeOffset() + margin_m) return true;
    }
    return false;
  };
  auto at = [](const Street& s, double along_m, double across_m) {
    return s.along_x ? Vec2(along_m, s.position_m + across_m) : Vec2(s.position_m + across_m, along_m);
  };
  for (const Street& s : city.streets) {
    for (int side : {-1, 1}) {
      const bool has_trees = clutter_rng.Bernoulli(0.6);
      for (double t = -half + 4; t < half - 4; t += clutter_rng.Uniform(11, 17)) {
        if (!has_trees || near_intersection(s, t, 3)) continue;
        city.trees.push_back({at(s, t, side * (s.road_half_width_m + 1.0)), clutter_rng.Uniform(5, 9),
                              clutter_rng.Uniform(1.6, 2.8)});
      }
      for (double t = -half + 10 + clutter_rng.Uniform(0, 10); t < half - 4; t += 30) {
        if (near_intersection(s, t, 2)) continue;
        city.poles.push_back({at(s, t, side * (s.road_half_width_m + 0.4)), clutter_rng.Uniform(6.5, 8.5)});
      }
      for (double t = -half + 5; t < half - 5; t += 6.5) {
        if (near_intersection(s, t, 8) || !clutter_rng.Bernoulli(0.35)) continue;
        static const Eigen::Vector3d kCarColours[] = {{0.9, 0.9, 0.9}, {0.1, 0.1, 0.1}, {0.6, 0.6, 0.62},
                                                      {0.55, 0.05, 0.05}, {0.1, 0.2, 0.5}, {0.85, 0.85, 0.8}};
        const double heading = s.along_x ? (side > 0 ? M_PI : 0.0) : (side > 0 ? -M_PI / 2 : M_PI / 2);
        city.cars.push_back({at(s, t, side * (s.road_half_width_m - 1.1)), heading, kCarColours[clutter_rng.UniformInt(0, 5)]});
      }
    }
  }

  // The mapping route: right-hand traffic, in the lane right of the centreline.
  Rng sun_rng(options.seed, kSun);
  const double lane = 0.3;  // lane centre as a fraction of the carriageway half width (parked cars use the kerb side)
  if (n >= 2) {
    const Street* x0 = xs.front();
    const Street* x1 = xs.back();
    const Street* y0 = ys.front();
    const Street* y1 = ys.back();
    const double l = x0->position_m - lane * x0->road_half_width_m, r = x1->position_m + lane * x1->road_half_width_m;
    const double b = y0->position_m - lane * y0->road_half_width_m, t = y1->position_m + lane * y1->road_half_width_m;
    city.route.points = RoundedPath({{l, b}, {r, b}, {r, t}, {l, t}}, /*closed=*/true, 12.0, 0.25);
    city.route.closed = true;
  } else {
    const Street* s = ys.front();
    const double y = s->position_m - lane * s->road_half_width_m;
    city.route.points = RoundedPath({{-half + 3, y}, {half - 3, y}}, /*closed=*/false, 8.0, 0.25);
  }
  const double sun_az = sun_rng.Uniform(0, 2 * M_PI), sun_el = sun_rng.Uniform(35, 60) * M_PI / 180;
  city.sun_direction = Eigen::Vector3d(std::cos(sun_el) * std::sin(sun_az), std::cos(sun_el) * std::cos(sun_az),
                                       std::sin(sun_el));
  AddWalkNetwork(city);
  return city;
}

}  // namespace armap::synth
