// Plain data of the navigation API (proto/armap/v1/navigation.proto):
// route requests and routes, guidance poses and updates. Units and frames as
// in the API: the map frame is local ENU metres (x east, y north, z up)
// about the map's origin; WGS84 in degrees; headings compass degrees
// clockwise from north; distances planar metres along the network; seconds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "armap/sdk/types.h"

namespace armap::sdk {

// Values equal the API's ManeuverType and the C ABI's ArmapManeuverType.
enum class ManeuverType : int32_t {
  kUnspecified = 0,
  kDepart = 1,
  kStraight = 2,  // straight on, onto a crossing
  kTurnLeft = 3,
  kTurnRight = 4,
  kSlightLeft = 5,
  kSlightRight = 6,
  kUTurn = 7,
  kArrive = 8,
};

struct Maneuver {
  ManeuverType type = ManeuverType::kUnspecified;
  double at_m = 0;        // arc length along the route
  double distance_m = 0;  // from the previous maneuver (DEPART: to the next), or to it (guidance)
  double turn_deg = 0;    // + left, - right
  bool onto_crossing = false;
  double heading_deg = 0;  // of the leg after it
  std::string text_zh, text_en;      // "左转", "Turn left"
  std::string prompt_zh, prompt_en;  // "在 30 米后左转", "In 30 m, turn left"
};

struct NavRoute {
  double length_m = 0;
  double eta_s = 0;
  int32_t crossings = 0;
  double cost = 0;
  std::vector<GeoPoint> polyline_wgs84;             // start to destination
  std::vector<std::array<double, 3>> polyline_map;  // the same points, map frame
  std::vector<std::array<double, 3>> ar_polyline_map;  // rounded, resampled every metre, for AR drawing
  std::vector<Maneuver> maneuvers;                  // DEPART first, ARRIVE last
  std::vector<int64_t> edge_ids;
  double start_snap_distance_m = 0;
  double destination_snap_distance_m = 0;
  int32_t route_version = 0;
};

struct Poi {
  int64_t id = 0;
  std::string name, name_en, category;
  double confidence = 0;
  GeoPoint position;
  std::array<double, 3> position_map{};
};

struct RouteOptions {
  std::optional<double> crossing_penalty_m;  // unset: the server's default (10 m)
  std::vector<int64_t> avoid_edge_ids;
  int32_t num_alternatives = 0;  // 0..5
};

// Exactly one destination: poi_name (non-empty) or destination.
struct RouteRequest {
  std::string map_id;  // empty: the server's only map
  std::string request_id;
  GeoPoint start;
  std::optional<double> start_heading_deg;
  std::string poi_name;
  std::optional<GeoPoint> destination;
  RouteOptions options;
  int64_t timeout_ms = 0;  // 0: ClientOptions::timeout_ms
};

struct RouteResult {
  std::string map_id, request_id;
  std::vector<NavRoute> routes;  // best first
  std::optional<Poi> destination_poi;
  double walk_speed_mps = 0;
  double server_ms = 0;
  double client_ms = 0;
};

// A walker's pose: exactly one of position_map / position_wgs84.
struct NavPose {
  std::optional<std::array<double, 3>> position_map;
  std::optional<GeoPoint> position_wgs84;
  std::optional<double> heading_deg;
  double time_s = 0;  // must not go backwards within a session
};

// The first message of a guidance session.
struct GuideStart {
  std::string map_id;
  std::string request_id;
  std::string poi_name;                // or
  std::optional<GeoPoint> destination;
  RouteOptions options;                // num_alternatives ignored
  NavPose pose;                        // where the walk starts
};

struct GuideUpdate {
  double progress_m = 0;
  double remaining_m = 0;
  double distance_to_route_m = 0;
  bool off_route = false;
  bool off_route_entered = false;
  std::optional<Maneuver> next;  // distance_m = distance to it
  double distance_to_next_m = 0;
  std::string prompt_zh, prompt_en;
  std::optional<NavRoute> route;  // the first update, and after a re-route
  bool rerouted = false;
  int32_t route_version = 0;
  std::string reroute_error;
  bool arrived = false;
  double server_ms = 0;
  double client_ms = 0;
};

}  // namespace armap::sdk
