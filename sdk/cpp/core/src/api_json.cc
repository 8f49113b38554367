#include "armap/sdk/core/api_json.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Geometry>
#include <nlohmann/json.hpp>

#include "armap/sdk/core/geodesy.h"

namespace armap::sdk {
namespace {

using nlohmann::json;

// Parse and check failures inside the helpers are thrown as this and
// turned into an Error at the API functions (never escapes them).
struct BadField {
  std::string message;
};

[[noreturn]] void Fail(const std::string& message) { throw BadField{message}; }

std::string Num(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

json Parse(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) Fail(std::string(what) + ": not valid JSON");
  return j;
}

void CheckObject(const json& j, const std::string& path, std::initializer_list<const char*> known) {
  if (!j.is_object()) Fail(path + ": must be a JSON object, got " + j.dump());
  const std::set<std::string> names(known.begin(), known.end());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!names.count(it.key())) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      Fail(path + ": unknown field \"" + it.key() + "\" (known: " + list + ")");
    }
  }
}

bool Has(const json& j, const char* key) { return j.is_object() && j.contains(key) && !j.at(key).is_null(); }

// A number (proto3 JSON also allows int64 and doubles as strings, and
// "NaN"/"Infinity", which the checks below then refuse).
double NumberAt(const json& j, const std::string& path) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    try {
      size_t used = 0;
      const double v = std::stod(s, &used);
      if (used == s.size()) return v;
    } catch (const std::exception&) {
    }
  }
  Fail(path + ": must be a number, got " + j.dump());
}

double Number(const json& parent, const char* key, const std::string& path, double fallback = 0) {
  return Has(parent, key) ? NumberAt(parent.at(key), path + "." + key) : fallback;
}

std::string String(const json& parent, const char* key, const std::string& path) {
  if (!Has(parent, key)) return "";
  const json& v = parent.at(key);
  if (!v.is_string()) Fail(path + "." + key + ": must be a string, got " + v.dump());
  return v.get<std::string>();
}

bool Bool(const json& parent, const char* key) { return Has(parent, key) && parent.at(key).is_boolean() && parent.at(key).get<bool>(); }

void Require(bool ok, const std::string& path, double value, const char* rule) {
  if (!ok) Fail(path + " = " + Num(value) + "; must be " + rule);
}

double Finite(const json& parent, const char* key, const std::string& path) {
  const double v = Number(parent, key, path);
  Require(std::isfinite(v), path + "." + key, v, "finite");
  return v;
}

json GeoPointSpec(const json& j, const std::string& path) {
  CheckObject(j, path, {"latDeg", "lonDeg", "altM"});
  const double lat = Number(j, "latDeg", path), lon = Number(j, "lonDeg", path), alt = Number(j, "altM", path);
  Require(std::isfinite(lat) && lat >= -90 && lat <= 90, path + ".latDeg", lat, "in [-90, 90]");
  Require(std::isfinite(lon) && lon >= -180 && lon <= 180, path + ".lonDeg", lon, "in [-180, 180]");
  Require(std::isfinite(alt), path + ".altM", alt, "finite");
  return json{{"latDeg", lat}, {"lonDeg", lon}, {"altM", alt}};
}

json Vector3Spec(const json& j, const std::string& path) {
  CheckObject(j, path, {"x", "y", "z"});
  return json{{"x", Finite(j, "x", path)}, {"y", Finite(j, "y", path)}, {"z", Finite(j, "z", path)}};
}

json Rigid3Spec(const json& j, const std::string& path) {
  CheckObject(j, path, {"qw", "qx", "qy", "qz", "translation"});
  json out{{"qw", Finite(j, "qw", path)}, {"qx", Finite(j, "qx", path)}, {"qy", Finite(j, "qy", path)},
           {"qz", Finite(j, "qz", path)}};
  const double n = std::sqrt(out["qw"].get<double>() * out["qw"].get<double>() +
                             out["qx"].get<double>() * out["qx"].get<double>() +
                             out["qy"].get<double>() * out["qy"].get<double>() +
                             out["qz"].get<double>() * out["qz"].get<double>());
  if (n < 1e-6) Fail(path + ": the quaternion [qw, qx, qy, qz] is zero");
  out["translation"] = Has(j, "translation") ? Vector3Spec(j.at("translation"), path + ".translation")
                                             : json{{"x", 0.0}, {"y", 0.0}, {"z", 0.0}};
  return out;
}

json CameraSpec(const json& j, const std::string& path) {
  if (!Has(j, "camera")) Fail(path + ": missing; set model, width, height and params");
  const json& c = j.at("camera");
  const std::string p = path;
  CheckObject(c, p, {"model", "width", "height", "params"});
  std::string model = String(c, "model", p);
  if (model.empty()) model = "PINHOLE";
  size_t expected = 0;
  if (model == "PINHOLE") expected = 4;
  else if (model == "OPENCV") expected = 8;
  else Fail(p + ".model = \"" + model + "\"; must be \"PINHOLE\" (fx fy cx cy) or \"OPENCV\" (fx fy cx cy k1 k2 p1 p2)");
  const double width = Number(c, "width", p), height = Number(c, "height", p);
  Require(width >= 1 && width <= 100000 && width == std::floor(width), p + ".width", width, "an integer in 1..100000");
  Require(height >= 1 && height <= 100000 && height == std::floor(height), p + ".height", height,
          "an integer in 1..100000");
  if (!Has(c, "params") || !c.at("params").is_array()) Fail(p + ".params: missing; " + model + " has " + std::to_string(expected) + " parameters");
  const json& params = c.at("params");
  if (params.size() != expected) {
    Fail(p + ".params has " + std::to_string(params.size()) + " values; " + model + " needs " + std::to_string(expected));
  }
  static const char* kNames[] = {"fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2"};
  json out_params = json::array();
  for (size_t i = 0; i < expected; ++i) {
    const std::string name = p + ".params[" + std::to_string(i) + "] (" + kNames[i] + ")";
    const double v = NumberAt(params[i], name);
    if (i < 2) Require(std::isfinite(v) && v > 0, name, v, "> 0 and finite");
    else Require(std::isfinite(v), name, v, "finite");
    out_params.push_back(v);
  }
  return json{{"model", model}, {"width", static_cast<int64_t>(width)}, {"height", static_cast<int64_t>(height)},
              {"params", out_params}};
}

json PriorSpec(const json& j, const std::string& path) {
  CheckObject(j, path, {"position", "accuracyM", "gravityInCam", "camFromWorld", "camFromWorldAccuracyM"});
  json out = json::object();
  if (Has(j, "position")) out["position"] = GeoPointSpec(j.at("position"), path + ".position");
  const double accuracy = Number(j, "accuracyM", path);
  Require(std::isfinite(accuracy) && accuracy >= 0, path + ".accuracyM", accuracy, ">= 0 and finite (0 = 10 m)");
  if (accuracy > 0) out["accuracyM"] = accuracy;
  if (Has(j, "gravityInCam")) {
    json g = Vector3Spec(j.at("gravityInCam"), path + ".gravityInCam");
    const double n = std::hypot(g["x"].get<double>(), g["y"].get<double>(), g["z"].get<double>());
    if (!(n > 1e-9)) Fail(path + ".gravityInCam: is zero; give the accelerometer's down direction in the camera frame");
    out["gravityInCam"] = g;
  }
  if (Has(j, "camFromWorld")) out["camFromWorld"] = Rigid3Spec(j.at("camFromWorld"), path + ".camFromWorld");
  const double pose_accuracy = Number(j, "camFromWorldAccuracyM", path);
  Require(std::isfinite(pose_accuracy) && pose_accuracy >= 0, path + ".camFromWorldAccuracyM", pose_accuracy,
          ">= 0 and finite (0 = 2 m)");
  if (pose_accuracy > 0) out["camFromWorldAccuracyM"] = pose_accuracy;
  return out;
}

const char* kFailureNames[] = {"NONE", "NO_CANDIDATES", "TOO_FEW_FEATURES", "TOO_FEW_MATCHES",
                               "TOO_FEW_INLIERS", "DEGENERATE_GEOMETRY", "LOW_CONFIDENCE"};
const char* kManeuverNames[] = {"UNSPECIFIED", "DEPART", "STRAIGHT", "TURN_LEFT", "TURN_RIGHT",
                                "SLIGHT_LEFT", "SLIGHT_RIGHT", "U_TURN", "ARRIVE"};

// An enum by name ("PREFIX_NAME" or its number) as the short name.
std::string EnumName(const json& parent, const char* key, const char* prefix, const char* const* names, int count,
                     const std::string& path) {
  if (!Has(parent, key)) return names[0];
  const json& v = parent.at(key);
  if (v.is_number_integer()) {
    const int i = v.get<int>();
    if (i >= 0 && i < count) return names[i];
  } else if (v.is_string()) {
    std::string s = v.get<std::string>();
    const std::string pre(prefix);
    if (s.compare(0, pre.size(), pre) == 0) s = s.substr(pre.size());
    for (int i = 0; i < count; ++i) {
      if (s == names[i]) return s;
    }
  }
  Fail(path + "." + key + ": unknown value " + v.dump());
}

json GeoPointOut(const json& parent, const char* key, const std::string& path) {
  const json& g = Has(parent, key) ? parent.at(key) : json::object();
  return json{{"latDeg", Number(g, "latDeg", path)}, {"lonDeg", Number(g, "lonDeg", path)}, {"altM", Number(g, "altM", path)}};
}

json Vector3Out(const json& v, const std::string& path) {
  return json::array({Number(v, "x", path), Number(v, "y", path), Number(v, "z", path)});
}

json ArrayAt(const json& parent, const char* key, const std::string& path) {
  if (!Has(parent, key)) return json::array();
  if (!parent.at(key).is_array()) Fail(path + "." + key + ": must be an array");
  return parent.at(key);
}

json Rigid3Out(const Rigid3& r) {
  return json{{"qw", r.qw}, {"qx", r.qx}, {"qy", r.qy}, {"qz", r.qz},
              {"translation", {{"x", r.tx}, {"y", r.ty}, {"z", r.tz}}}};
}

Rigid3 Rigid3In(const json& parent, const char* key, const std::string& path) {
  const json& r = Has(parent, key) ? parent.at(key) : json::object();
  const json& t = Has(r, "translation") ? r.at("translation") : json::object();
  // proto3 JSON omits zeros, so an absent qw is 0, not 1.
  return Rigid3{Number(r, "qw", path), Number(r, "qx", path), Number(r, "qy", path), Number(r, "qz", path),
                Number(t, "x", path), Number(t, "y", path), Number(t, "z", path)};
}

json MapInfoOut(const json& m, const std::string& path) {
  const json& e = Has(m, "extractor") ? m.at("extractor") : json::object();
  const json& lo = Has(m, "bboxMinM") ? m.at("bboxMinM") : json::object();
  const json& hi = Has(m, "bboxMaxM") ? m.at("bboxMaxM") : json::object();
  return json{{"mapId", String(m, "mapId", path)},
              {"mapVersion", Number(m, "mapVersion", path)},
              {"createdUtc", String(m, "createdUtc", path)},
              {"origin", GeoPointOut(m, "origin", path + ".origin")},
              {"bboxMinM", Vector3Out(lo, path + ".bboxMinM")},
              {"bboxMaxM", Vector3Out(hi, path + ".bboxMaxM")},
              {"numViews", Number(m, "numViews", path)},
              {"numLandmarks", Number(m, "numLandmarks", path)},
              {"extractor",
               {{"type", String(e, "type", path + ".extractor")},
                {"maxFeatures", Number(e, "maxFeatures", path + ".extractor")},
                {"contrastThreshold", Number(e, "contrastThreshold", path + ".extractor")},
                {"edgeThreshold", Number(e, "edgeThreshold", path + ".extractor")},
                {"octaveLayers", Number(e, "octaveLayers", path + ".extractor")}}}};
}

template <typename F>
Result<std::string> Guard(F&& f) {
  try {
    return f();
  } catch (const BadField& e) {
    return Error::InvalidArgument(e.message);
  } catch (const std::exception& e) {
    return Error::InvalidArgument(std::string("malformed JSON value: ") + e.what());
  }
}

}  // namespace

std::string Base64Encode(const std::string& bytes) {
  static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> LocalizeRequestJson(const std::string& spec_json, const std::string& image,
                                        const std::string& descriptors) {
  return Guard([&]() -> std::string {
    const std::string path = "LocalizeRequest";
    const json spec = Parse(spec_json, "LocalizeRequest spec");
    CheckObject(spec, path, {"mapId", "requestId", "camera", "prior", "features"});
    json out{{"mapId", String(spec, "mapId", path)}, {"camera", CameraSpec(spec, path + ".camera")}};
    const bool has_features = Has(spec, "features");
    if (!image.empty() && has_features) Fail(path + ": both image and features are set; send exactly one of them");
    if (image.empty() && !has_features) {
      Fail(path + ".image: is empty; give the encoded JPEG or PNG (or features: keypoints + descriptors)");
    }
    if (!image.empty()) {
      const bool jpeg = image.size() >= 3 && uint8_t(image[0]) == 0xFF && uint8_t(image[1]) == 0xD8 && uint8_t(image[2]) == 0xFF;
      const bool png = image.size() >= 8 && image.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
      if (!jpeg && !png) {
        std::ostringstream head;
        for (size_t i = 0; i < std::min<size_t>(4, image.size()); ++i) {
          head << (i ? " " : "") << std::hex << static_cast<int>(uint8_t(image[i]));
        }
        Fail(path + ".image: " + std::to_string(image.size()) + " bytes starting " + head.str() +
             " are not a JPEG (ff d8 ff) or PNG (89 50 4e 47)");
      }
      out["image"] = Base64Encode(image);
    } else {
      const std::string fp = path + ".features";
      const json& f = spec.at("features");
      CheckObject(f, fp, {"keypoints", "descriptorDim"});
      const json keypoints = ArrayAt(f, "keypoints", fp);
      if (keypoints.empty()) Fail(fp + ".keypoints: is empty");
      if (keypoints.size() % 4 != 0) {
        Fail(fp + ".keypoints has " + std::to_string(keypoints.size()) +
             " floats; must be 4 per keypoint (x, y, scale, orientation)");
      }
      json kp = json::array();
      for (size_t i = 0; i < keypoints.size(); ++i) {
        const std::string name = fp + ".keypoints[" + std::to_string(i) + "]";
        const double v = NumberAt(keypoints[i], name);
        Require(std::isfinite(v), name, v, "finite");
        kp.push_back(static_cast<float>(v));
      }
      const double dim = Number(f, "descriptorDim", fp);
      Require(dim >= 1 && dim <= 4096 && dim == std::floor(dim), fp + ".descriptorDim", dim, "an integer in 1..4096");
      const size_t n = keypoints.size() / 4;
      if (descriptors.size() != n * static_cast<size_t>(dim)) {
        Fail(fp + ".descriptors has " + std::to_string(descriptors.size()) + " bytes; expected " + std::to_string(n) +
             " keypoints x " + std::to_string(static_cast<int>(dim)) + " = " + std::to_string(n * static_cast<size_t>(dim)));
      }
      out["features"] = json{{"keypoints", kp}, {"descriptors", Base64Encode(descriptors)},
                             {"descriptorDim", static_cast<int64_t>(dim)}};
    }
    if (Has(spec, "prior")) {
      json prior = PriorSpec(spec.at("prior"), path + ".prior");
      if (!prior.empty()) out["prior"] = prior;
    }
    const std::string request_id = String(spec, "requestId", path);
    if (!request_id.empty()) out["requestId"] = request_id;
    return out.dump();
  });
}

Result<std::string> LocalizeResultJson(const std::string& response_json) {
  return Guard([&]() -> std::string {
    const std::string path = "LocalizeResponse";
    const json r = Parse(response_json, path.c_str());
    if (!r.is_object()) Fail(path + ": must be a JSON object");
    const bool success = Bool(r, "success");
    json out{{"success", success},
             {"failureReason", EnumName(r, "failureReason", "FAILURE_REASON_", kFailureNames, 7, path)},
             {"failureMessage", String(r, "failureMessage", path)},
             {"confidence", Number(r, "confidence", path)},
             {"numFeatures", Number(r, "numFeatures", path)},
             {"numRetrievedViews", Number(r, "numRetrievedViews", path)},
             {"numMatches", Number(r, "numMatches", path)},
             {"numInliers", Number(r, "numInliers", path)},
             {"reprojectionRmsPx", Number(r, "reprojectionRmsPx", path)},
             {"serverMs", Number(r, "serverMs", path)},
             {"mapId", String(r, "mapId", path)},
             {"mapVersion", Number(r, "mapVersion", path)},
             {"requestId", String(r, "requestId", path)}};
    json stages = json::array();
    for (const json& s : ArrayAt(r, "stages", path)) {
      stages.push_back({{"stage", String(s, "stage", path + ".stages")}, {"ms", Number(s, "ms", path + ".stages")}});
    }
    out["stages"] = stages;
    const json& g = Has(r, "geoPose") ? r.at("geoPose") : json::object();
    out["geoPose"] = {{"position", GeoPointOut(g, "position", path + ".geoPose.position")},
                      {"headingDeg", Number(g, "headingDeg", path + ".geoPose")},
                      {"pitchDeg", Number(g, "pitchDeg", path + ".geoPose")},
                      {"rollDeg", Number(g, "rollDeg", path + ".geoPose")}};
    if (success) {
      const Rigid3 cam_from_world = Rigid3In(r, "camFromWorld", path + ".camFromWorld");
      const double n = std::sqrt(cam_from_world.qw * cam_from_world.qw + cam_from_world.qx * cam_from_world.qx +
                                 cam_from_world.qy * cam_from_world.qy + cam_from_world.qz * cam_from_world.qz);
      if (!(n > 0.5 && n < 1.5)) Fail(path + ".camFromWorld: the quaternion has norm " + Num(n) + ", not 1");
      const Rigid3 map_from_cam = Inverse(cam_from_world);
      out["camFromWorld"] = Rigid3Out(Normalized(cam_from_world));
      out["mapFromCam"] = Rigid3Out(map_from_cam);
      out["cameraPositionMap"] = json::array({map_from_cam.tx, map_from_cam.ty, map_from_cam.tz});
    } else {
      out["camFromWorld"] = nullptr;
      out["mapFromCam"] = nullptr;
      out["cameraPositionMap"] = nullptr;
    }
    return out.dump();
  });
}

Result<std::string> RouteRequestJson(const std::string& spec_json) {
  return Guard([&]() -> std::string {
    const std::string path = "RouteRequest";
    const json spec = Parse(spec_json, "RouteRequest spec");
    CheckObject(spec, path, {"mapId", "requestId", "start", "poiName", "point", "options"});
    json out{{"mapId", String(spec, "mapId", path)}};
    const std::string request_id = String(spec, "requestId", path);
    if (!request_id.empty()) out["requestId"] = request_id;
    if (!Has(spec, "start")) Fail(path + ".start: missing; give start.position (WGS84)");
    const json& start = spec.at("start");
    CheckObject(start, path + ".start", {"position", "headingDeg"});
    if (!Has(start, "position")) Fail(path + ".start.position: missing");
    json s{{"position", GeoPointSpec(start.at("position"), path + ".start.position")}};
    if (Has(start, "headingDeg")) s["headingDeg"] = Finite(start, "headingDeg", path + ".start");
    out["start"] = s;
    const std::string poi = String(spec, "poiName", path);
    const bool has_point = Has(spec, "point");
    if (!poi.empty() && has_point) Fail(path + ": set poiName or point, not both");
    if (poi.empty() && !has_point) Fail(path + ": no destination; set poiName or point");
    if (has_point) out["point"] = GeoPointSpec(spec.at("point"), path + ".point");
    else out["poiName"] = poi;
    if (Has(spec, "options")) {
      const std::string op = path + ".options";
      const json& o = spec.at("options");
      CheckObject(o, op, {"crossingPenaltyM", "avoidEdgeIds", "numAlternatives"});
      json options = json::object();
      if (Has(o, "crossingPenaltyM")) {
        const double c = Number(o, "crossingPenaltyM", op);
        Require(std::isfinite(c) && c >= 0, op + ".crossingPenaltyM", c, ">= 0 and finite");
        options["crossingPenaltyM"] = c;
      }
      const double alternatives = Number(o, "numAlternatives", op);
      Require(alternatives >= 0 && alternatives <= 5 && alternatives == std::floor(alternatives),
              op + ".numAlternatives", alternatives, "an integer in 0..5");
      if (alternatives > 0) options["numAlternatives"] = static_cast<int>(alternatives);
      json avoid = json::array();
      const json ids = ArrayAt(o, "avoidEdgeIds", op);
      for (size_t i = 0; i < ids.size(); ++i) {
        const std::string name = op + ".avoidEdgeIds[" + std::to_string(i) + "]";
        const double id = NumberAt(ids[i], name);
        Require(std::isfinite(id) && id == std::floor(id) && std::abs(id) < 9e15, name, id, "an integer");
        avoid.push_back(std::to_string(static_cast<int64_t>(id)));  // int64 as a string
      }
      if (!avoid.empty()) options["avoidEdgeIds"] = avoid;
      if (!options.empty()) out["options"] = options;
    }
    return out.dump();
  });
}

Result<std::string> RouteResultJson(const std::string& response_json) {
  return Guard([&]() -> std::string {
    const std::string path = "RouteResponse";
    const json r = Parse(response_json, path.c_str());
    if (!r.is_object()) Fail(path + ": must be a JSON object");
    json routes = json::array();
    const json in_routes = ArrayAt(r, "routes", path);
    for (size_t k = 0; k < in_routes.size(); ++k) {
      const json& nr = in_routes[k];
      const std::string rp = path + ".routes[" + std::to_string(k) + "]";
      json route{{"lengthM", Number(nr, "lengthM", rp)},
                 {"etaS", Number(nr, "etaS", rp)},
                 {"crossings", Number(nr, "crossings", rp)},
                 {"cost", Number(nr, "cost", rp)},
                 {"startSnapDistanceM", Number(nr, "startSnapDistanceM", rp)},
                 {"destinationSnapDistanceM", Number(nr, "destinationSnapDistanceM", rp)},
                 {"routeVersion", Number(nr, "routeVersion", rp)}};
      json wgs84 = json::array(), map = json::array(), ar = json::array(), maneuvers = json::array(), edges = json::array();
      for (const json& g : ArrayAt(nr, "polylineWgs84", rp)) {
        wgs84.push_back({Number(g, "latDeg", rp), Number(g, "lonDeg", rp), Number(g, "altM", rp)});
      }
      for (const json& v : ArrayAt(nr, "polylineMap", rp)) map.push_back(Vector3Out(v, rp + ".polylineMap"));
      for (const json& v : ArrayAt(nr, "arPolylineMap", rp)) ar.push_back(Vector3Out(v, rp + ".arPolylineMap"));
      if (map.size() < 2) Fail(rp + ".polylineMap has " + std::to_string(map.size()) + " points; a route has >= 2");
      for (const json& m : ArrayAt(nr, "maneuvers", rp)) {
        const std::string mp = rp + ".maneuvers";
        maneuvers.push_back({{"type", EnumName(m, "type", "MANEUVER_TYPE_", kManeuverNames, 9, mp)},
                             {"atM", Number(m, "atM", mp)},
                             {"distanceM", Number(m, "distanceM", mp)},
                             {"turnDeg", Number(m, "turnDeg", mp)},
                             {"ontoCrossing", Bool(m, "ontoCrossing")},
                             {"headingDeg", Number(m, "headingDeg", mp)},
                             {"textZh", String(m, "textZh", mp)},
                             {"textEn", String(m, "textEn", mp)},
                             {"promptZh", String(m, "promptZh", mp)},
                             {"promptEn", String(m, "promptEn", mp)}});
      }
      for (const json& e : ArrayAt(nr, "edgeIds", rp)) edges.push_back(NumberAt(e, rp + ".edgeIds"));
      route["polylineWgs84"] = wgs84;
      route["polylineMap"] = map;
      route["arPolylineMap"] = ar;
      route["maneuvers"] = maneuvers;
      route["edgeIds"] = edges;
      routes.push_back(route);
    }
    json out{{"mapId", String(r, "mapId", path)},
             {"requestId", String(r, "requestId", path)},
             {"routes", routes},
             {"walkSpeedMps", Number(r, "walkSpeedMps", path)},
             {"serverMs", Number(r, "serverMs", path)},
             {"destinationPoi", nullptr}};
    if (Has(r, "destinationPoi")) {
      const json& p = r.at("destinationPoi");
      const std::string pp = path + ".destinationPoi";
      const json& pm = Has(p, "positionMap") ? p.at("positionMap") : json::object();
      out["destinationPoi"] = {{"id", Number(p, "id", pp)},
                               {"name", String(p, "name", pp)},
                               {"nameEn", String(p, "nameEn", pp)},
                               {"category", String(p, "category", pp)},
                               {"confidence", Number(p, "confidence", pp)},
                               {"position", GeoPointOut(p, "position", pp + ".position")},
                               {"positionMap", Vector3Out(pm, pp + ".positionMap")}};
    }
    return out.dump();
  });
}

Result<std::string> MapInfoJson(const std::string& response_json) {
  return Guard([&]() -> std::string {
    const json m = Parse(response_json, "MapInfo");
    if (!m.is_object()) Fail("MapInfo: must be a JSON object");
    return MapInfoOut(m, "MapInfo").dump();
  });
}

Result<std::string> MapListJson(const std::string& response_json) {
  return Guard([&]() -> std::string {
    const json r = Parse(response_json, "ListMapsResponse");
    if (!r.is_object()) Fail("ListMapsResponse: must be a JSON object");
    json maps = json::array();
    const json in = ArrayAt(r, "maps", "ListMapsResponse");
    for (size_t i = 0; i < in.size(); ++i) maps.push_back(MapInfoOut(in[i], "ListMapsResponse.maps[" + std::to_string(i) + "]"));
    return json{{"maps", maps}}.dump();
  });
}

}  // namespace armap::sdk
