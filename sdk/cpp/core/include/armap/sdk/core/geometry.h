// Poses and WGS84 points of the client API (see armap/sdk/types.h for the
// conventions), shared by every transport and by the portable core.
#pragma once

namespace armap::sdk {

// A rigid transform target_from_source: a unit quaternion [w, x, y, z] and a
// translation in metres.
struct Rigid3 {
  double qw = 1, qx = 0, qy = 0, qz = 0;
  double tx = 0, ty = 0, tz = 0;
};

struct GeoPoint {
  double lat_deg = 0;
  double lon_deg = 0;
  double alt_m = 0;  // WGS84 ellipsoidal height
};

// Camera centre in WGS84; heading = azimuth of the optical axis clockwise
// from north [0, 360); pitch = its elevation (up positive); roll about the
// optical axis (clockwise as the user sees it positive).
struct GeoPose {
  GeoPoint position;
  double heading_deg = 0;
  double pitch_deg = 0;
  double roll_deg = 0;
};

}  // namespace armap::sdk
