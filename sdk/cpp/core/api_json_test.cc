// The API JSON of the portable core: request checks naming the field,
// canonical bodies, completed responses and derived poses.
#include "armap/sdk/core/api_json.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

namespace armap::sdk {
namespace {

using nlohmann::json;

const std::string kJpeg("\xFF\xD8\xFF\xE0 fake jpeg body", 20);

std::string Spec(const json& camera_override = json(), const json& prior = json()) {
  json spec{{"mapId", "small"}, {"camera", {{"model", "PINHOLE"}, {"width", 640}, {"height", 480}, {"params", {500, 500, 320, 240}}}}};
  if (!camera_override.is_null()) spec["camera"] = camera_override;
  if (!prior.is_null()) spec["prior"] = prior;
  return spec.dump();
}

std::string ErrorOf(const Result<std::string>& r) { return r.ok() ? "OK" : r.error().message; }

TEST(ApiJsonTest, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xFF\xD8\xFF", 3)), "/9j/");
}

TEST(ApiJsonTest, LocalizeRequestBody) {
  const json prior{{"position", {{"latDeg", 31.2}, {"lonDeg", 121.4}}}, {"accuracyM", 8}};
  Result<std::string> body = LocalizeRequestJson(Spec(json(), prior), kJpeg, "");
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json j = json::parse(*body);
  EXPECT_EQ(j["image"], Base64Encode(kJpeg));
  EXPECT_EQ(j["camera"]["width"], 640);
  EXPECT_EQ(j["prior"]["position"]["latDeg"], 31.2);
  EXPECT_EQ(j["prior"]["position"]["altM"], 0.0);
  EXPECT_EQ(j["mapId"], "small");
}

TEST(ApiJsonTest, LocalizeRequestErrorsNameTheField) {
  json camera{{"width", 640}, {"height", 480}, {"params", {-1, 500, 320, 240}}};
  EXPECT_EQ(ErrorOf(LocalizeRequestJson(Spec(camera), kJpeg, "")),
            "LocalizeRequest.camera.params[0] (fx) = -1; must be > 0 and finite");
  camera["params"] = {500, "NaN", 320, 240};
  EXPECT_EQ(ErrorOf(LocalizeRequestJson(Spec(camera), kJpeg, "")),
            "LocalizeRequest.camera.params[1] (fy) = nan; must be > 0 and finite");
  camera["params"] = {500, 500, 320};
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(camera), kJpeg, "")).find("params has 3 values; PINHOLE needs 4"),
            std::string::npos);
  camera["params"] = {500, 500, 320, 240};
  camera["width"] = 0;
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(camera), kJpeg, "")).find("LocalizeRequest.camera.width = 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(), "", "")).find("LocalizeRequest.image: is empty"), std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(), "GIF89a", "")).find("not a JPEG"), std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(json(), {{"position", {{"latDeg", 95}, {"lonDeg", 0}}}}), kJpeg, ""))
                .find("LocalizeRequest.prior.position.latDeg = 95; must be in [-90, 90]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(json(), {{"accuracyM", -3}}), kJpeg, ""))
                .find("LocalizeRequest.prior.accuracyM = -3"),
            std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(Spec(json(), {{"accuracy", 3}}), kJpeg, "")).find("unknown field \"accuracy\""),
            std::string::npos);
}

TEST(ApiJsonTest, FeaturesRequest) {
  json spec = json::parse(Spec());
  spec["features"] = {{"keypoints", {1, 2, 1.6, 0.1, 3, 4, 2.0, 0.2}}, {"descriptorDim", 3}};
  Result<std::string> body = LocalizeRequestJson(spec.dump(), "", "abcdef");
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json j = json::parse(*body);
  EXPECT_EQ(j["features"]["descriptors"], "YWJjZGVm");
  EXPECT_EQ(j["features"]["keypoints"].size(), 8u);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(spec.dump(), "", "abcde")).find("descriptors has 5 bytes; expected 2 keypoints x 3 = 6"),
            std::string::npos);
  EXPECT_NE(ErrorOf(LocalizeRequestJson(spec.dump(), kJpeg, "abcdef")).find("both image and features"), std::string::npos);
}

TEST(ApiJsonTest, LocalizeResultInvertsThePose) {
  // cam_from_world: 90 deg about z, translation (1, 2, 3): the camera sits
  // at -R^T t = (-2, 1, -3).
  const double h = std::sqrt(0.5);
  const json response{{"success", true},
                      {"camFromWorld", {{"qw", h}, {"qz", h}, {"translation", {{"x", 1}, {"y", 2}, {"z", 3}}}}},
                      {"confidence", 0.9},
                      {"mapVersion", "7"},
                      {"failureReason", "FAILURE_REASON_NONE"}};
  Result<std::string> out = LocalizeResultJson(response.dump());
  ASSERT_TRUE(out.ok()) << out.error().message;
  const json j = json::parse(*out);
  EXPECT_NEAR(j["cameraPositionMap"][0].get<double>(), -2, 1e-12);
  EXPECT_NEAR(j["cameraPositionMap"][1].get<double>(), 1, 1e-12);
  EXPECT_NEAR(j["cameraPositionMap"][2].get<double>(), -3, 1e-12);
  EXPECT_NEAR(j["mapFromCam"]["qz"].get<double>(), -h, 1e-12);
  EXPECT_EQ(j["mapVersion"], 7);
  EXPECT_EQ(j["numInliers"], 0);
  EXPECT_EQ(j["failureReason"], "NONE");
  // A failure: proto3 JSON omits success; no poses.
  out = LocalizeResultJson(R"({"failureReason":"FAILURE_REASON_TOO_FEW_INLIERS","numInliers":9})");
  ASSERT_TRUE(out.ok());
  const json f = json::parse(*out);
  EXPECT_EQ(f["success"], false);
  EXPECT_EQ(f["failureReason"], "TOO_FEW_INLIERS");
  EXPECT_TRUE(f["mapFromCam"].is_null());
  EXPECT_FALSE(LocalizeResultJson("{not json").ok());
}

TEST(ApiJsonTest, RouteRequestAndResult) {
  const json spec{{"start", {{"position", {{"latDeg", 31.2}, {"lonDeg", 121.4}}}, {"headingDeg", 90}}},
                  {"poiName", "Cafe"},
                  {"options", {{"avoidEdgeIds", {12, 13}}}}};
  Result<std::string> body = RouteRequestJson(spec.dump());
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json j = json::parse(*body);
  EXPECT_EQ(j["poiName"], "Cafe");
  EXPECT_EQ(j["options"]["avoidEdgeIds"][0], "12");
  json both = spec;
  both["point"] = {{"latDeg", 31.2}, {"lonDeg", 121.4}};
  EXPECT_EQ(ErrorOf(RouteRequestJson(both.dump())), "RouteRequest: set poiName or point, not both");
  json none = spec;
  none.erase("poiName");
  EXPECT_EQ(ErrorOf(RouteRequestJson(none.dump())), "RouteRequest: no destination; set poiName or point");
  json alt = spec;
  alt["options"] = {{"numAlternatives", 9}};
  EXPECT_NE(ErrorOf(RouteRequestJson(alt.dump())).find("RouteRequest.options.numAlternatives = 9"), std::string::npos);

  const json response{{"routes",
                       {{{"lengthM", 20},
                         {"polylineMap", {{{"x", 0}, {"y", 0}}, {{"x", 10}}, {{"x", 10}, {"y", 10}, {"z", 1}}}},
                         {"maneuvers", {{{"type", "MANEUVER_TYPE_DEPART"}}, {{"type", "MANEUVER_TYPE_TURN_LEFT"}, {"atM", 10}}}},
                         {"edgeIds", {"4", "5"}}}}}};
  Result<std::string> out = RouteResultJson(response.dump());
  ASSERT_TRUE(out.ok()) << out.error().message;
  const json r = json::parse(*out);
  EXPECT_EQ(r["routes"][0]["polylineMap"][2], json::array({10.0, 10.0, 1.0}));
  EXPECT_EQ(r["routes"][0]["maneuvers"][1]["type"], "TURN_LEFT");
  EXPECT_EQ(r["routes"][0]["edgeIds"][1], 5);
  EXPECT_TRUE(r["destinationPoi"].is_null());
}

}  // namespace
}  // namespace armap::sdk
