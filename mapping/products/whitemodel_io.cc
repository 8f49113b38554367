// White model files: CityJSON 1.1, glTF 2.0 binary (tinygltf) and GeoJSON
// footprints, and the GeoJSON reader (also reads gt/buildings.geojson).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <tiny_gltf.h>  // Debian's libtinygltf.so holds the implementation

#include "absl/strings/str_cat.h"
#include "core/json.h"
#include "core/status.h"
#include "mapping/products/whitemodel.h"
#include "mapping/products/whitemodel_geometry.h"

namespace armap::mapping {

namespace {

using internal::Polygon2;

Polygon2 Ccw(Polygon2 p) {
  if (internal::SignedArea(p) < 0) std::reverse(p.begin(), p.end());
  return p;
}

// The solids of a building: one prism per roof part (LOD1: the footprint).
struct Prism {
  Polygon2 ring;  // CCW
  double z0, z1;
};

std::vector<Prism> Prisms(const BuildingModel& b) {
  std::vector<Prism> out;
  for (const RoofPart& p : b.parts) out.push_back({Ccw(p.polygon), b.ground_z_m, b.ground_z_m + p.height_m});
  if (out.empty()) out.push_back({Ccw(b.footprint), b.ground_z_m, b.ground_z_m + b.height_m});
  return out;
}

// Ear clipping of a simple CCW polygon (footprints have a few dozen
// vertices at most). Returns vertex index triples, CCW.
std::vector<std::array<int, 3>> Triangulate(const Polygon2& ring) {
  std::vector<std::array<int, 3>> tris;
  std::vector<int> idx(ring.size());
  for (size_t i = 0; i < ring.size(); ++i) idx[i] = static_cast<int>(i);
  auto cross = [&](int a, int b, int c) {
    const Eigen::Vector2d u = ring[b] - ring[a], v = ring[c] - ring[a];
    return u.x() * v.y() - u.y() * v.x();
  };
  auto inside = [&](int p, int a, int b, int c) {
    return cross(a, b, p) >= -1e-12 && cross(b, c, p) >= -1e-12 && cross(c, a, p) >= -1e-12;
  };
  int guard = 0;
  while (idx.size() > 3 && guard++ < 10000) {
    bool clipped = false;
    for (size_t i = 0; i < idx.size(); ++i) {
      const int a = idx[(i + idx.size() - 1) % idx.size()], b = idx[i], c = idx[(i + 1) % idx.size()];
      if (cross(a, b, c) <= 1e-12) continue;  // reflex or degenerate
      bool ear = true;
      for (int p : idx)
        if (p != a && p != b && p != c && inside(p, a, b, c)) { ear = false; break; }
      if (!ear) continue;
      tris.push_back({a, b, c});
      idx.erase(idx.begin() + i);
      clipped = true;
      break;
    }
    if (!clipped) break;  // not simple: fan the rest
  }
  for (size_t i = 1; i + 1 < idx.size(); ++i) tris.push_back({idx[0], idx[i], idx[i + 1]});
  return tris;
}

OrderedJson Ring(const Polygon2& ring, const EnuFrame& frame) {
  OrderedJson coords = OrderedJson::array();
  for (size_t i = 0; i <= ring.size(); ++i) {
    const Eigen::Vector2d& p = ring[i % ring.size()];
    const GeoPoint g = frame.Wgs84FromEnu({p.x(), p.y(), 0.0});
    coords.push_back({g.lon_deg, g.lat_deg});
  }
  return coords;
}

// ----------------------------------------------------------------------------

absl::Status WriteCityJson(const WhiteModelLevel& level, const EnuFrame& frame, const std::string& level_name,
                           const std::filesystem::path& path) {
  constexpr double kScale = 0.001;  // millimetres
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::max()), hi = -lo;
  for (const BuildingModel& b : level.buildings)
    for (const Prism& p : Prisms(b))
      for (const Eigen::Vector2d& v : p.ring) {
        lo = lo.cwiseMin(Eigen::Vector3d(v.x(), v.y(), p.z0));
        hi = hi.cwiseMax(Eigen::Vector3d(v.x(), v.y(), p.z1));
      }
  if (level.buildings.empty()) lo = hi = Eigen::Vector3d::Zero();
  const Eigen::Vector3d translate = (lo / kScale).array().floor() * kScale;

  OrderedJson vertices = OrderedJson::array();
  auto vertex = [&](double x, double y, double z) {
    vertices.push_back({std::llround((x - translate.x()) / kScale), std::llround((y - translate.y()) / kScale),
                        std::llround((z - translate.z()) / kScale)});
    return static_cast<int>(vertices.size()) - 1;
  };
  // A closed prism: bottom (facing down), top (up), one wall per edge (out).
  auto solid = [&](const Prism& p, const char* lod) {
    std::vector<int> bottom, top;
    for (const Eigen::Vector2d& v : p.ring) {
      bottom.push_back(vertex(v.x(), v.y(), p.z0));
      top.push_back(vertex(v.x(), v.y(), p.z1));
    }
    OrderedJson shell = OrderedJson::array();
    shell.push_back(OrderedJson::array({OrderedJson(std::vector<int>(bottom.rbegin(), bottom.rend()))}));
    shell.push_back(OrderedJson::array({OrderedJson(top)}));
    const size_t n = p.ring.size();
    for (size_t i = 0; i < n; ++i) {
      const size_t j = (i + 1) % n;
      shell.push_back(OrderedJson::array({OrderedJson::array({bottom[i], bottom[j], top[j], top[i]})}));
    }
    OrderedJson g;
    g["type"] = "Solid";
    g["lod"] = lod;
    g["boundaries"] = OrderedJson::array({shell});
    return g;
  };

  OrderedJson objects = OrderedJson::object();
  for (const BuildingModel& b : level.buildings) {
    const std::string id = absl::StrCat("building_", b.id);
    OrderedJson o;
    o["type"] = "Building";
    o["attributes"] = {{"measuredHeight", b.height_m}, {"lod", b.lod}, {"num_points", b.num_points},
                       {"ground_z", b.ground_z_m}};
    o["geometry"] = OrderedJson::array();
    if (b.lod == 2 && b.parts.size() > 1) {
      OrderedJson children = OrderedJson::array();
      for (size_t k = 0; k < b.parts.size(); ++k) {
        const std::string part_id = absl::StrCat(id, "_part_", k);
        children.push_back(part_id);
        OrderedJson part;
        part["type"] = "BuildingPart";
        part["parents"] = {id};
        part["attributes"] = {{"measuredHeight", b.parts[k].height_m}};
        part["geometry"] = OrderedJson::array(
            {solid({Ccw(b.parts[k].polygon), b.ground_z_m, b.ground_z_m + b.parts[k].height_m}, "2")});
        objects[part_id] = part;
      }
      o["children"] = children;
    } else {
      o["geometry"].push_back(solid({Ccw(b.footprint), b.ground_z_m, b.ground_z_m + b.height_m}, "1"));
    }
    objects[id] = o;
  }
  OrderedJson doc;
  doc["type"] = "CityJSON";
  doc["version"] = "1.1";
  doc["transform"] = {{"scale", {kScale, kScale, kScale}}, {"translate", {translate.x(), translate.y(), translate.z()}}};
  OrderedJson metadata;
  metadata["title"] = absl::StrCat("armap white models, ", level_name, " level");
  metadata["geographicalExtent"] = {lo.x(), lo.y(), lo.z(), hi.x(), hi.y(), hi.z()};
  // No EPSG code exists for the map's own frame, so referenceSystem is left
  // out and the frame is stated here.
  metadata["+referenceSystemNote"] =
      "local ENU metres (x east, y north, z up) about +enuOrigin (WGS84 lat/lon degrees, ellipsoidal height m)";
  metadata["+enuOrigin"] = {{"lat", frame.origin().lat_deg}, {"lon", frame.origin().lon_deg}, {"alt", frame.origin().alt_m}};
  metadata["+toleranceMetres"] = level.tolerance_m;
  metadata["+heightToleranceMetres"] = level.height_tolerance_m;
  doc["metadata"] = metadata;
  doc["CityObjects"] = objects;
  doc["vertices"] = vertices;
  return WriteJsonFile(path, doc, -1);
}

absl::Status WriteGlb(const WhiteModelLevel& level, const EnuFrame& frame, const std::filesystem::path& path) {
  tinygltf::Model model;
  model.asset.version = "2.0";
  model.asset.generator = "armap whitemodel";
  // glTF is y-up: (east, north, up) -> (x, y, z) = (east, up, -north).
  model.asset.extras = tinygltf::Value(tinygltf::Value::Object{
      {"frame", tinygltf::Value(std::string("map frame ENU metres; glTF x = east, y = up, z = -north"))},
      {"origin_lat", tinygltf::Value(frame.origin().lat_deg)},
      {"origin_lon", tinygltf::Value(frame.origin().lon_deg)},
      {"origin_alt", tinygltf::Value(frame.origin().alt_m)},
      {"tolerance_m", tinygltf::Value(level.tolerance_m)},
      {"height_tolerance_m", tinygltf::Value(level.height_tolerance_m)}});
  tinygltf::Material material;
  material.name = "white";
  material.pbrMetallicRoughness.baseColorFactor = {0.9, 0.9, 0.9, 1.0};
  material.pbrMetallicRoughness.metallicFactor = 0.0;
  material.pbrMetallicRoughness.roughnessFactor = 0.9;
  model.materials.push_back(material);
  model.buffers.emplace_back();
  std::vector<unsigned char>& data = model.buffers[0].data;
  auto append = [&](const void* bytes, size_t n) {
    const size_t offset = data.size();
    data.insert(data.end(), static_cast<const unsigned char*>(bytes), static_cast<const unsigned char*>(bytes) + n);
    while (data.size() % 4) data.push_back(0);
    return offset;
  };
  tinygltf::Scene scene;
  for (const BuildingModel& b : level.buildings) {
    std::vector<float> pos, nrm;
    std::vector<uint32_t> ind;
    auto vtx = [&](const Eigen::Vector3d& p, const Eigen::Vector3d& n) {
      pos.insert(pos.end(), {static_cast<float>(p.x()), static_cast<float>(p.z()), static_cast<float>(-p.y())});
      nrm.insert(nrm.end(), {static_cast<float>(n.x()), static_cast<float>(n.z()), static_cast<float>(-n.y())});
      return static_cast<uint32_t>(pos.size() / 3 - 1);
    };
    for (const Prism& p : Prisms(b)) {
      const std::vector<std::array<int, 3>> tris = Triangulate(p.ring);
      for (const auto& t : tris) {  // top, CCW from above
        const uint32_t base = static_cast<uint32_t>(pos.size() / 3);
        for (int k : t) vtx({p.ring[k].x(), p.ring[k].y(), p.z1}, Eigen::Vector3d::UnitZ());
        ind.insert(ind.end(), {base, base + 1, base + 2});
      }
      for (const auto& t : tris) {  // bottom, reversed
        const uint32_t base = static_cast<uint32_t>(pos.size() / 3);
        for (int k : {t[0], t[2], t[1]}) vtx({p.ring[k].x(), p.ring[k].y(), p.z0}, -Eigen::Vector3d::UnitZ());
        ind.insert(ind.end(), {base, base + 1, base + 2});
      }
      for (size_t i = 0; i < p.ring.size(); ++i) {
        const Eigen::Vector2d a = p.ring[i], c = p.ring[(i + 1) % p.ring.size()];
        const Eigen::Vector2d d = (c - a).normalized();
        const Eigen::Vector3d n(d.y(), -d.x(), 0);
        const uint32_t i0 = vtx({a.x(), a.y(), p.z0}, n), i1 = vtx({c.x(), c.y(), p.z0}, n);
        const uint32_t i2 = vtx({c.x(), c.y(), p.z1}, n), i3 = vtx({a.x(), a.y(), p.z1}, n);
        ind.insert(ind.end(), {i0, i1, i2, i0, i2, i3});
      }
    }
    if (ind.empty()) continue;
    std::vector<double> lo(3, std::numeric_limits<double>::max()), hi(3, -std::numeric_limits<double>::max());
    for (size_t i = 0; i < pos.size(); ++i) {
      lo[i % 3] = std::min(lo[i % 3], static_cast<double>(pos[i]));
      hi[i % 3] = std::max(hi[i % 3], static_cast<double>(pos[i]));
    }
    auto view = [&](const void* bytes, size_t n, int target) {
      tinygltf::BufferView v;
      v.buffer = 0;
      v.byteOffset = append(bytes, n);
      v.byteLength = n;
      v.target = target;
      model.bufferViews.push_back(v);
      return static_cast<int>(model.bufferViews.size()) - 1;
    };
    auto accessor = [&](int view_index, int component, int type, size_t count) {
      tinygltf::Accessor a;
      a.bufferView = view_index;
      a.componentType = component;
      a.type = type;
      a.count = count;
      model.accessors.push_back(a);
      return static_cast<int>(model.accessors.size()) - 1;
    };
    const int a_pos = accessor(view(pos.data(), pos.size() * 4, TINYGLTF_TARGET_ARRAY_BUFFER),
                               TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, pos.size() / 3);
    model.accessors[a_pos].minValues = lo;
    model.accessors[a_pos].maxValues = hi;
    const int a_nrm = accessor(view(nrm.data(), nrm.size() * 4, TINYGLTF_TARGET_ARRAY_BUFFER),
                               TINYGLTF_COMPONENT_TYPE_FLOAT, TINYGLTF_TYPE_VEC3, nrm.size() / 3);
    const int a_ind = accessor(view(ind.data(), ind.size() * 4, TINYGLTF_TARGET_ELEMENT_ARRAY_BUFFER),
                               TINYGLTF_COMPONENT_TYPE_UNSIGNED_INT, TINYGLTF_TYPE_SCALAR, ind.size());
    tinygltf::Primitive prim;
    prim.attributes["POSITION"] = a_pos;
    prim.attributes["NORMAL"] = a_nrm;
    prim.indices = a_ind;
    prim.material = 0;
    prim.mode = TINYGLTF_MODE_TRIANGLES;
    tinygltf::Mesh mesh;
    mesh.name = absl::StrCat("building_", b.id);
    mesh.primitives.push_back(prim);
    model.meshes.push_back(mesh);
    tinygltf::Node node;
    node.name = mesh.name;
    node.mesh = static_cast<int>(model.meshes.size()) - 1;
    node.extras = tinygltf::Value(tinygltf::Value::Object{{"height_m", tinygltf::Value(b.height_m)},
                                                          {"lod", tinygltf::Value(b.lod)}});
    model.nodes.push_back(node);
    scene.nodes.push_back(static_cast<int>(model.nodes.size()) - 1);
  }
  if (data.empty()) data.resize(4, 0);  // a valid (empty) binary chunk
  model.scenes.push_back(scene);
  model.defaultScene = 0;
  tinygltf::TinyGLTF writer;
  if (!writer.WriteGltfSceneToFile(&model, path.string(), /*embedImages=*/false, /*embedBuffers=*/true,
                                   /*prettyPrint=*/false, /*writeBinary=*/true))
    return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

absl::Status WriteGeoJson(const WhiteModelLevel& level, const EnuFrame& frame, const std::string& level_name,
                          const std::filesystem::path& path) {
  OrderedJson doc;
  doc["type"] = "FeatureCollection";
  doc["level"] = level_name;
  doc["tolerance_m"] = level.tolerance_m;
  doc["height_tolerance_m"] = level.height_tolerance_m;
  doc["enu_origin"] = {{"lat", frame.origin().lat_deg}, {"lon", frame.origin().lon_deg}, {"alt", frame.origin().alt_m}};
  doc["features"] = OrderedJson::array();
  for (const BuildingModel& b : level.buildings) {
    OrderedJson f;
    f["type"] = "Feature";
    f["geometry"] = {{"type", "Polygon"}, {"coordinates", OrderedJson::array({Ring(Ccw(b.footprint), frame)})}};
    OrderedJson parts = OrderedJson::array();
    for (const RoofPart& p : b.parts)
      parts.push_back({{"height_m", p.height_m}, {"polygon", OrderedJson::array({Ring(Ccw(p.polygon), frame)})}});
    OrderedJson enu = OrderedJson::array();  // as gt/buildings.geojson: map-frame outline, metres
    for (const Eigen::Vector2d& p : Ccw(b.footprint)) enu.push_back({p.x(), p.y()});
    f["properties"] = {{"id", b.id},         {"height_m", b.height_m},     {"lod", b.lod},
                       {"ground_z_m", b.ground_z_m}, {"num_points", b.num_points}, {"roof_parts", parts},
                       {"footprint_enu", enu}};
    doc["features"].push_back(f);
  }
  return WriteJsonFile(path, doc, 1);
}

absl::StatusOr<Polygon2> ReadRing(const Json& coords, const EnuFrame& frame, const std::string& where) {
  if (!coords.is_array() || coords.empty() || !coords[0].is_array())
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected [[[lon, lat], ...]]"));
  Polygon2 ring;
  for (const Json& c : coords[0]) {
    if (!c.is_array() || c.size() < 2 || !c[0].is_number() || !c[1].is_number())
      return absl::InvalidArgumentError(absl::StrCat(where, ": a position is not [lon, lat]"));
    GeoPoint g;
    g.lon_deg = c[0].get<double>();
    g.lat_deg = c[1].get<double>();
    g.alt_m = frame.origin().alt_m;
    ring.push_back(frame.EnuFromWgs84(g).head<2>());
  }
  if (ring.size() >= 2 && (ring.front() - ring.back()).norm() < 1e-6) ring.pop_back();
  if (ring.size() < 3) return absl::InvalidArgumentError(absl::StrCat(where, ": fewer than 3 vertices"));
  return Ccw(ring);
}

}  // namespace

absl::Status WriteWhiteModels(const WhiteModelResult& result, const EnuFrame& frame, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  for (const auto& [name, level] : {std::pair<std::string, const WhiteModelLevel*>{"full", &result.full},
                                    std::pair<std::string, const WhiteModelLevel*>{"simplified", &result.simplified}}) {
    ARMAP_RETURN_IF_ERROR(WriteCityJson(*level, frame, name, dir / (name + ".city.json")));
    ARMAP_RETURN_IF_ERROR(WriteGlb(*level, frame, dir / (name + ".glb")));
    ARMAP_RETURN_IF_ERROR(WriteGeoJson(*level, frame, name, dir / (name + ".geojson")));
  }
  return absl::OkStatus();
}

absl::StatusOr<WhiteModelLevel> ReadWhiteModelGeoJson(const std::filesystem::path& path, const EnuFrame& frame) {
  ARMAP_ASSIGN_OR_RETURN(const Json doc, ReadJsonFile(path));
  const std::string file = path.string();
  if (!doc.is_object() || doc.value("type", "") != "FeatureCollection" || !doc.contains("features") ||
      !doc["features"].is_array())
    return absl::InvalidArgumentError(absl::StrCat(file, ": not a GeoJSON FeatureCollection with 'features'"));
  WhiteModelLevel level;
  if (doc.contains("tolerance_m") && doc["tolerance_m"].is_number()) level.tolerance_m = doc["tolerance_m"].get<double>();
  if (doc.contains("height_tolerance_m") && doc["height_tolerance_m"].is_number())
    level.height_tolerance_m = doc["height_tolerance_m"].get<double>();
  for (size_t i = 0; i < doc["features"].size(); ++i) {
    const Json& f = doc["features"][i];
    const std::string where = absl::StrCat(file, ": features[", i, "]");
    if (!f.is_object() || !f.contains("geometry") || !f["geometry"].is_object())
      return absl::InvalidArgumentError(absl::StrCat(where, ": missing 'geometry'"));
    const Json& g = f["geometry"];
    const std::string type = g.value("type", "");
    if (!g.contains("coordinates")) return absl::InvalidArgumentError(absl::StrCat(where, ".geometry: missing 'coordinates'"));
    BuildingModel b;
    if (type == "Polygon") {
      ARMAP_ASSIGN_OR_RETURN(b.footprint, ReadRing(g["coordinates"], frame, where + ".geometry"));
    } else if (type == "MultiPolygon" && g["coordinates"].is_array() && !g["coordinates"].empty()) {
      ARMAP_ASSIGN_OR_RETURN(b.footprint, ReadRing(g["coordinates"][0], frame, where + ".geometry"));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(where, ".geometry: type '", type, "' is not a Polygon"));
    }
    const Json props = f.value("properties", Json::object());
    ARMAP_ASSIGN_OR_RETURN(b.height_m, GetJsonField<double>(props, "height_m", where + ".properties"));
    b.id = props.contains("id") && props["id"].is_number_integer() ? props["id"].get<int>() : static_cast<int>(i);
    b.lod = props.contains("lod") && props["lod"].is_number_integer() ? props["lod"].get<int>() : 1;
    b.ground_z_m = props.contains("ground_z_m") && props["ground_z_m"].is_number() ? props["ground_z_m"].get<double>() : 0.0;
    b.num_points = props.contains("num_points") && props["num_points"].is_number_integer() ? props["num_points"].get<int>() : 0;
    const char* parts_key = props.contains("roof_parts") ? "roof_parts" : props.contains("parts") ? "parts" : nullptr;
    if (parts_key) {
      const Json& parts = props[parts_key];
      if (!parts.is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ".properties.", parts_key, ": not an array"));
      for (size_t k = 0; k < parts.size(); ++k) {
        const std::string pw = absl::StrCat(where, ".properties.", parts_key, "[", k, "]");
        RoofPart part;
        ARMAP_ASSIGN_OR_RETURN(part.height_m, GetJsonField<double>(parts[k], "height_m", pw));
        if (!parts[k].contains("polygon")) return absl::InvalidArgumentError(absl::StrCat(pw, ": missing 'polygon'"));
        ARMAP_ASSIGN_OR_RETURN(part.polygon, ReadRing(parts[k]["polygon"], frame, pw + ".polygon"));
        b.parts.push_back(std::move(part));
      }
    }
    if (b.parts.empty()) b.parts.push_back({b.footprint, b.height_m});
    level.buildings.push_back(std::move(b));
  }
  return level;
}

}  // namespace armap::mapping
