// embind bindings of the portable client core for the WebAssembly SDK
// (js/index.mjs wraps them; users never see this layer). Every call that
// can fail returns {ok: true, value} or {ok: false, code, message} (code:
// the gRPC name, message naming the field), which index.mjs turns into an
// ArmapError: no C++ exception crosses into JavaScript.
//
// JavaScript shapes (as in the HTTP API's JSON):
//   pose (target_from_source): {qw, qx, qy, qz, translation: {x, y, z}}
//   geo point: {latDeg, lonDeg, altM};  vectors: [x, y, z]
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <array>
#include <functional>
#include <optional>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "armap/sdk/core/api_json.h"
#include "armap/sdk/core/geodesy.h"
#include "armap/sdk/core/pose_fusion_core.h"
#include "navigation/route_follower.h"

namespace armap::wasm {
namespace {

using emscripten::val;
using nlohmann::json;
using Vec3 = std::array<double, 3>;

struct Translation {
  double x = 0, y = 0, z = 0;
};
struct Pose {
  double qw = 1, qx = 0, qy = 0, qz = 0;
  Translation translation;
};

sdk::Rigid3 ToRigid(const Pose& p) {
  return sdk::Rigid3{p.qw, p.qx, p.qy, p.qz, p.translation.x, p.translation.y, p.translation.z};
}
Pose ToPose(const sdk::Rigid3& r) { return Pose{r.qw, r.qx, r.qy, r.qz, Translation{r.tx, r.ty, r.tz}}; }

val Ok(val value) {
  val out = val::object();
  out.set("ok", true);
  out.set("value", std::move(value));
  return out;
}
val Fail(sdk::ErrorCode code, const std::string& message) {
  val out = val::object();
  out.set("ok", false);
  out.set("code", std::string(sdk::ErrorCodeName(code)));
  out.set("message", message);
  return out;
}
val Fail(const sdk::Error& e) { return Fail(e.code, e.message); }
val Invalid(const std::string& message) { return Fail(sdk::ErrorCode::kInvalidArgument, message); }

template <typename T>
val FromResult(const sdk::Result<T>& r) {
  return r.ok() ? Ok(val(*r)) : Fail(r.error());
}
val FromJson(const sdk::Result<std::string>& r) { return r.ok() ? Ok(val(*r)) : Fail(r.error()); }

// Options from a JSON object of camelCase fields; unknown fields and
// non-numbers are errors naming them.
struct Field {
  const char* name;
  double* value;
};
struct IntField {
  const char* name;
  int* value;
};
std::string ReadOptions(const std::string& text, const char* type, const std::vector<Field>& fields,
                        const std::vector<IntField>& ints, const std::function<std::string(const std::string&, const json&)>& other = nullptr) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string(type) + ": options must be a JSON object";
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (it.value().is_null()) continue;
    bool found = false;
    for (const Field& f : fields) {
      if (key != f.name) continue;
      found = true;
      if (!it.value().is_number()) return std::string(type) + "." + key + ": must be a number, got " + it.value().dump();
      *f.value = it.value().get<double>();
    }
    for (const IntField& f : ints) {
      if (key != f.name) continue;
      found = true;
      if (!it.value().is_number_integer()) return std::string(type) + "." + key + ": must be an integer, got " + it.value().dump();
      *f.value = it.value().get<int>();
    }
    if (!found && other) {
      const std::string e = other(key, it.value());
      if (e != "unknown") {
        if (!e.empty()) return e;
        continue;
      }
    }
    if (!found) return std::string(type) + ": unknown option \"" + key + "\"";
  }
  return "";
}

const char* OutcomeName(sdk::FixOutcome o) {
  switch (o) {
    case sdk::FixOutcome::kInitialized: return "initialized";
    case sdk::FixOutcome::kAccepted: return "accepted";
    case sdk::FixOutcome::kRejected: return "rejected";
    case sdk::FixOutcome::kReset: return "reset";
  }
  return "unknown";
}

// ---- pose fusion

class Fusion {
 public:
  explicit Fusion(const std::string& options_json) {
    sdk::FusionOptions o;
    error_ = ReadOptions(
        options_json, "PoseFusionOptions",
        {{"fixPositionSigmaM", &o.fix_position_sigma_m}, {"fixYawSigmaDeg", &o.fix_yaw_sigma_deg},
         {"minConfidence", &o.min_confidence}, {"driftFraction", &o.drift_fraction},
         {"driftNonlinearity", &o.drift_nonlinearity}, {"driftMPerS", &o.drift_m_per_s},
         {"yawDriftDegPerM", &o.yaw_drift_deg_per_m}, {"yawDriftDegPerS", &o.yaw_drift_deg_per_s},
         {"windowS", &o.window_s}, {"gateSigma", &o.gate_sigma}, {"gateFloorM", &o.gate_floor_m},
         {"gateFloorDeg", &o.gate_floor_deg}, {"huberK", &o.huber_k},
         {"maxDriftExtrapolationM", &o.max_drift_extrapolation_m}, {"blendTimeS", &o.blend_time_s},
         {"maxCorrectionSpeedMps", &o.max_correction_speed_mps},
         {"maxCorrectionYawRateDps", &o.max_correction_yaw_rate_dps}, {"trackingHistoryS", &o.tracking_history_s},
         {"maxExtrapolationS", &o.max_extrapolation_s}},
        {{"windowSize", &o.window_size}}, [&o](const std::string& key, const json& v) -> std::string {
          if (key != "sessionUpAxis") return "unknown";
          if (v == "y") o.session_up_axis = sdk::SessionUpAxis::kY;
          else if (v == "z") o.session_up_axis = sdk::SessionUpAxis::kZ;
          else return "PoseFusionOptions.sessionUpAxis = " + v.dump() + "; must be \"y\" (ARKit, ARCore, WebXR) or \"z\"";
          return "";
        });
    if (!error_.empty()) return;
    sdk::Result<sdk::PoseFusionCore> core = sdk::PoseFusionCore::Create(o);
    if (!core.ok()) {
      error_ = core.error().message;
      return;
    }
    core_.emplace(std::move(core).value());
  }
  // Empty when constructed; else why not (INVALID_ARGUMENT).
  std::string error() const { return error_; }

  val AddTracking(double timestamp_s, const Pose& session_from_cam) {
    const sdk::Error e = core_->AddTracking(timestamp_s, ToRigid(session_from_cam));
    return e.ok() ? Ok(val::undefined()) : Fail(e);
  }
  val AddFix(double timestamp_s, const Pose& map_from_cam, double confidence) {
    return Outcome(core_->AddFix(timestamp_s, ToRigid(map_from_cam), confidence));
  }
  val AddFixWithSigma(double timestamp_s, const Pose& map_from_cam, double position_sigma_m, double yaw_sigma_deg) {
    return Outcome(core_->AddFixWithSigma(timestamp_s, ToRigid(map_from_cam), position_sigma_m, yaw_sigma_deg));
  }
  bool initialized() const { return core_->initialized(); }
  val MapFromSession() const { return PoseResult(core_->MapFromSession()); }
  val TargetMapFromSession() const { return PoseResult(core_->TargetMapFromSession()); }
  val MapFromCam(double timestamp_s) const { return PoseResult(core_->MapFromCam(timestamp_s)); }
  val Stats() const {
    const sdk::PoseFusionStats s = core_->stats();
    val out = val::object();
    out.set("numTracking", static_cast<double>(s.num_tracking));
    out.set("numFixes", static_cast<double>(s.num_fixes));
    out.set("numAccepted", static_cast<double>(s.num_accepted));
    out.set("numRejected", static_cast<double>(s.num_rejected));
    out.set("numResets", static_cast<double>(s.num_resets));
    out.set("windowInliers", s.window_inliers);
    out.set("pendingCorrectionM", s.pending_correction_m);
    out.set("pendingCorrectionDeg", s.pending_correction_deg);
    out.set("positionSigmaM", s.position_sigma_m);
    out.set("yawSigmaDeg", s.yaw_sigma_deg);
    out.set("driftRate", s.drift_rate);
    return out;
  }
  void Reset() { core_->Reset(); }

 private:
  static val Outcome(const sdk::Result<sdk::FixOutcome>& r) {
    return r.ok() ? Ok(val(std::string(OutcomeName(*r)))) : Fail(r.error());
  }
  static val PoseResult(const sdk::Result<sdk::Rigid3>& r) { return r.ok() ? Ok(val(ToPose(*r))) : Fail(r.error()); }

  std::string error_;
  std::optional<sdk::PoseFusionCore> core_;
};

// ---- geo

sdk::GeoPoint ToGeo(const val& g) {
  return sdk::GeoPoint{g["latDeg"].as<double>(), g["lonDeg"].as<double>(),
                       g["altM"].isUndefined() ? 0.0 : g["altM"].as<double>()};
}
val FromGeo(const sdk::GeoPoint& g) {
  val out = val::object();
  out.set("latDeg", g.lat_deg);
  out.set("lonDeg", g.lon_deg);
  out.set("altM", g.alt_m);
  return out;
}
bool FiniteGeo(const sdk::GeoPoint& g) {
  return std::isfinite(g.lat_deg) && std::isfinite(g.lon_deg) && std::isfinite(g.alt_m) && std::abs(g.lat_deg) <= 90 &&
         std::abs(g.lon_deg) <= 360;
}
Vec3 ToVec(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }
Eigen::Vector3d FromVec(const Vec3& v) { return {v[0], v[1], v[2]}; }

val EcefFromWgs84(const val& point) {
  const sdk::GeoPoint g = ToGeo(point);
  if (!FiniteGeo(g)) return Invalid("ecefFromWgs84: the point must have finite latDeg in [-90, 90], lonDeg, altM");
  return Ok(val(ToVec(sdk::EcefFromWgs84(g))));
}
val Wgs84FromEcef(const Vec3& ecef) {
  if (!FromVec(ecef).allFinite() || FromVec(ecef).norm() < 1000) {
    return Invalid("wgs84FromEcef: the ECEF point must be finite and not near the Earth's centre");
  }
  return Ok(FromGeo(sdk::Wgs84FromEcef(FromVec(ecef))));
}

class Frame {
 public:
  explicit Frame(const val& origin) : origin_(ToGeo(origin)), frame_(origin_) {
    if (!FiniteGeo(origin_)) error_ = "EnuFrame: origin must have finite latDeg in [-90, 90], lonDeg, altM";
  }
  std::string error() const { return error_; }
  val Origin() const { return FromGeo(origin_); }
  Vec3 EnuFromWgs84(const val& point) const { return ToVec(frame_.EnuFromWgs84(ToGeo(point))); }
  val Wgs84FromEnu(const Vec3& enu) const { return FromGeo(frame_.Wgs84FromEnu(FromVec(enu))); }
  val GeoPoseFromMapFromCam(const Pose& map_from_cam) const {
    const sdk::GeoPose g = sdk::GeoPoseFromMapFromCam(frame_, ToRigid(map_from_cam));
    val out = val::object();
    out.set("position", FromGeo(g.position));
    out.set("headingDeg", g.heading_deg);
    out.set("pitchDeg", g.pitch_deg);
    out.set("rollDeg", g.roll_deg);
    return out;
  }

 private:
  sdk::GeoPoint origin_;
  sdk::EnuFrame frame_;
  std::string error_;
};

Pose Compose(const Pose& a_from_b, const Pose& b_from_c) { return ToPose(sdk::Compose(ToRigid(a_from_b), ToRigid(b_from_c))); }
Pose Inverse(const Pose& a_from_b) { return ToPose(sdk::Inverse(ToRigid(a_from_b))); }

// ---- API JSON

val LocalizeRequestJson(const std::string& spec, const std::string& image, const std::string& descriptors) {
  return FromJson(sdk::LocalizeRequestJson(spec, image, descriptors));
}
val LocalizeResultJson(const std::string& body) { return FromJson(sdk::LocalizeResultJson(body)); }
val RouteRequestJson(const std::string& spec) { return FromJson(sdk::RouteRequestJson(spec)); }
val RouteResultJson(const std::string& body) { return FromJson(sdk::RouteResultJson(body)); }
val MapInfoJson(const std::string& body) { return FromJson(sdk::MapInfoJson(body)); }
val MapListJson(const std::string& body) { return FromJson(sdk::MapListJson(body)); }

// ---- route following

// API ManeuverType short names (RouteResultJson's "type").
const std::pair<const char*, nav::ManeuverType> kManeuverTypes[] = {
    {"DEPART", nav::ManeuverType::kDepart},         {"STRAIGHT", nav::ManeuverType::kStraight},
    {"TURN_LEFT", nav::ManeuverType::kTurnLeft},    {"TURN_RIGHT", nav::ManeuverType::kTurnRight},
    {"SLIGHT_LEFT", nav::ManeuverType::kSlightLeft}, {"SLIGHT_RIGHT", nav::ManeuverType::kSlightRight},
    {"U_TURN", nav::ManeuverType::kUTurn},          {"ARRIVE", nav::ManeuverType::kArrive}};

const char* ApiName(nav::ManeuverType t) {
  for (const auto& [name, type] : kManeuverTypes) {
    if (type == t) return name;
  }
  return "UNSPECIFIED";
}

// A maneuver from RouteResultJson's form; error names the field.
std::string ManeuverFrom(const json& m, const std::string& at, nav::Maneuver* out) {
  if (!m.is_object()) return at + ": must be an object";
  const std::string type = m.value("type", std::string());
  bool known = false;
  for (const auto& [name, t] : kManeuverTypes) {
    if (type == name) {
      out->type = t;
      known = true;
    }
  }
  if (!known) return at + ".type = \"" + type + "\"; must be DEPART, STRAIGHT, TURN_LEFT, ..., ARRIVE";
  for (const char* key : {"atM", "turnDeg", "headingDeg"}) {
    if (m.contains(key) && !m[key].is_number()) return at + "." + key + ": must be a number";
  }
  out->at_m = m.value("atM", 0.0);
  out->turn_deg = m.value("turnDeg", 0.0);
  out->heading_deg = m.value("headingDeg", 0.0);
  out->onto_crossing = m.value("ontoCrossing", false);
  out->text_zh = m.value("textZh", std::string());
  out->text_en = m.value("textEn", std::string());
  if (!std::isfinite(out->at_m)) return at + ".atM: must be finite";
  return "";
}

val ManeuverOut(const nav::Maneuver& m) {
  val out = val::object();
  out.set("type", std::string(ApiName(m.type)));
  out.set("atM", m.at_m);
  out.set("turnDeg", m.turn_deg);
  out.set("ontoCrossing", m.onto_crossing);
  out.set("headingDeg", m.heading_deg);
  out.set("textZh", m.text_zh);
  out.set("textEn", m.text_en);
  return out;
}

class Follower {
 public:
  explicit Follower(const std::string& options_json) {
    nav::RouteFollowOptions o;
    error_ = ReadOptions(options_json, "RouteFollowOptions",
                         {{"offrouteDistanceM", &o.offroute_distance_m},
                          {"offrouteHeadingDistanceM", &o.offroute_heading_distance_m},
                          {"offrouteHeadingDeg", &o.offroute_heading_deg},
                          {"offrouteMinDurationS", &o.offroute_min_duration_s},
                          {"onrouteDistanceM", &o.onroute_distance_m},
                          {"trackBackM", &o.track_back_m},
                          {"trackAheadM", &o.track_ahead_m},
                          {"headingWindowM", &o.heading_window_m},
                          {"arrivalRadiusM", &o.arrival_radius_m}},
                         {{"offrouteMinPoses", &o.offroute_min_poses}, {"onrouteMinPoses", &o.onroute_min_poses}});
    if (error_.empty()) error_ = o.Check();
    if (error_.empty()) follower_.emplace(o);
  }
  std::string error() const { return error_; }

  // route_json: one route of RouteResultJson ({"polylineMap": [[x,y,z],...], "maneuvers": [...]}).
  val SetRoute(const std::string& route_json) {
    const json r = json::parse(route_json, nullptr, false);
    if (r.is_discarded() || !r.is_object()) return Invalid("RouteFollower.setRoute: the route must be a JSON object");
    std::vector<Eigen::Vector3d> polyline;
    const json line = r.value("polylineMap", json::array());
    for (size_t i = 0; i < line.size(); ++i) {
      const json& p = line[i];
      if (!p.is_array() || p.size() != 3 || !p[0].is_number() || !p[1].is_number() || !p[2].is_number()) {
        return Invalid("route.polylineMap[" + std::to_string(i) + "]: must be [x, y, z]");
      }
      polyline.emplace_back(p[0].get<double>(), p[1].get<double>(), p[2].get<double>());
    }
    std::vector<nav::Maneuver> maneuvers;
    const json ms = r.value("maneuvers", json::array());
    for (size_t i = 0; i < ms.size(); ++i) {
      nav::Maneuver m;
      const std::string e = ManeuverFrom(ms[i], "route.maneuvers[" + std::to_string(i) + "]", &m);
      if (!e.empty()) return Invalid(e);
      maneuvers.push_back(std::move(m));
    }
    const std::string e = follower_->SetRoute(std::move(polyline), std::move(maneuvers));
    return e.empty() ? Ok(val::undefined()) : Invalid(e);
  }

  // pose: {positionMap: [x, y, z], headingDeg?: number, timeS: number}.
  val Update(const val& pose) {
    nav::NavPose p;
    if (std::string e = PoseFrom(pose, &p); !e.empty()) return Invalid(e);
    const std::string e = follower_->Update(p, &last_);
    return e.empty() ? Ok(UpdateOut(last_)) : Invalid(e);
  }
  // After setRoute with a re-route planned from `pose`.
  val Rejoin(const val& pose) {
    nav::NavPose p;
    if (std::string e = PoseFrom(pose, &p); !e.empty()) return Invalid(e);
    follower_->Rejoin(p, &last_);
    return Ok(UpdateOut(last_));
  }
  double ProgressM() const { return follower_->progress_m(); }
  double LengthM() const { return follower_->length_m(); }
  bool OffRoute() const { return follower_->off_route(); }
  bool Arrived() const { return follower_->arrived(); }

 private:
  static std::string PoseFrom(const val& pose, nav::NavPose* out) {
    if (pose.isNull() || pose.typeOf().as<std::string>() != "object") return "RouteFollower: the pose must be an object";
    const val position = pose["positionMap"];
    if (position.isUndefined() || position["length"].isUndefined() || position["length"].as<int>() != 3) {
      return "RouteFollower: pose.positionMap must be [x, y, z] in the map frame";
    }
    out->position_in_map = Eigen::Vector3d(position[0].as<double>(), position[1].as<double>(), position[2].as<double>());
    const val heading = pose["headingDeg"];
    if (!heading.isUndefined() && !heading.isNull()) out->heading_deg = heading.as<double>();
    const val time = pose["timeS"];
    if (time.isUndefined()) return "RouteFollower: pose.timeS (seconds) is required";
    out->time_s = time.as<double>();
    return "";
  }
  static val UpdateOut(const nav::FollowUpdate& u) {
    val out = val::object();
    out.set("progressM", u.progress_m);
    out.set("remainingM", u.remaining_m);
    out.set("distanceToRouteM", u.distance_to_route_m);
    out.set("headingErrorDeg", u.heading_error_deg);
    out.set("offRoute", u.off_route);
    out.set("offRouteEntered", u.off_route_entered);
    out.set("arrived", u.arrived);
    out.set("next", u.next ? ManeuverOut(*u.next) : val::null());
    out.set("distanceToNextM", u.distance_to_next_m);
    out.set("promptZh", u.prompt.zh);
    out.set("promptEn", u.prompt.en);
    return out;
  }

  std::string error_;
  std::optional<nav::RouteFollower> follower_;
  nav::FollowUpdate last_;
};

// The prompt for a maneuver (RouteResultJson's form) distance_m ahead.
val PromptFor(const std::string& maneuver_json, double distance_m) {
  const json j = json::parse(maneuver_json, nullptr, false);
  nav::Maneuver m;
  if (j.is_discarded()) return Invalid("promptFor: the maneuver must be a JSON object");
  if (std::string e = ManeuverFrom(j, "maneuver", &m); !e.empty()) return Invalid(e);
  if (!std::isfinite(distance_m)) return Invalid("promptFor: distanceM must be finite");
  const nav::Prompt p = nav::PromptFor(m, distance_m);
  val out = val::object();
  out.set("zh", p.zh);
  out.set("en", p.en);
  return Ok(out);
}

int RoundedDistanceM(double distance_m) { return nav::RoundedDistanceM(distance_m); }

}  // namespace
}  // namespace armap::wasm

EMSCRIPTEN_BINDINGS(armap_core) {
  using namespace emscripten;
  using namespace armap::wasm;
  value_object<Translation>("Translation").field("x", &Translation::x).field("y", &Translation::y).field("z", &Translation::z);
  value_object<Pose>("Pose")
      .field("qw", &Pose::qw)
      .field("qx", &Pose::qx)
      .field("qy", &Pose::qy)
      .field("qz", &Pose::qz)
      .field("translation", &Pose::translation);
  value_array<Vec3>("Vec3").element(emscripten::index<0>()).element(emscripten::index<1>()).element(emscripten::index<2>());

  class_<Fusion>("PoseFusionCore")
      .constructor<std::string>()
      .function("error", &Fusion::error)
      .function("addTracking", &Fusion::AddTracking)
      .function("addFix", &Fusion::AddFix)
      .function("addFixWithSigma", &Fusion::AddFixWithSigma)
      .function("initialized", &Fusion::initialized)
      .function("mapFromSession", &Fusion::MapFromSession)
      .function("targetMapFromSession", &Fusion::TargetMapFromSession)
      .function("mapFromCam", &Fusion::MapFromCam)
      .function("stats", &Fusion::Stats)
      .function("reset", &Fusion::Reset);

  class_<Frame>("EnuFrameCore")
      .constructor<val>()
      .function("error", &Frame::error)
      .function("origin", &Frame::Origin)
      .function("enuFromWgs84", &Frame::EnuFromWgs84)
      .function("wgs84FromEnu", &Frame::Wgs84FromEnu)
      .function("geoPoseFromMapFromCam", &Frame::GeoPoseFromMapFromCam);
  function("ecefFromWgs84", &EcefFromWgs84);
  function("wgs84FromEcef", &Wgs84FromEcef);
  function("compose", &Compose);
  function("inverse", &Inverse);

  function("localizeRequestJson", &LocalizeRequestJson);
  function("localizeResultJson", &LocalizeResultJson);
  function("routeRequestJson", &RouteRequestJson);
  function("routeResultJson", &RouteResultJson);
  function("mapInfoJson", &MapInfoJson);
  function("mapListJson", &MapListJson);

  class_<Follower>("RouteFollowerCore")
      .constructor<std::string>()
      .function("error", &Follower::error)
      .function("setRoute", &Follower::SetRoute)
      .function("update", &Follower::Update)
      .function("rejoin", &Follower::Rejoin)
      .function("progressM", &Follower::ProgressM)
      .function("lengthM", &Follower::LengthM)
      .function("offRoute", &Follower::OffRoute)
      .function("arrived", &Follower::Arrived);
  function("promptFor", &PromptFor);
  function("roundedDistanceM", &RoundedDistanceM);
}
