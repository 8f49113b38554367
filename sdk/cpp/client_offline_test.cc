// Client behaviour that needs no server: option and request validation,
// client-side size limits, and unreachable servers.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "armap/sdk/client.h"
#include "core/testing/status_matchers.h"
#include "sdk_test_util.h"

namespace armap::sdk {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

LocalizeRequest ImageRequest(std::string image) {
  LocalizeRequest r;
  r.camera = Camera{"PINHOLE", 640, 480, {500, 500, 319.5, 239.5}};
  r.image = std::move(image);
  return r;
}

std::string ClosedTarget() {
  const int port = testing::ClosedLoopbackPort();
  EXPECT_GT(port, 0);
  return "127.0.0.1:" + std::to_string(port);
}

TEST(ClientOptionsTest, ValidateNamesTheField) {
  EXPECT_THAT(ClientOptions{}.Validate(), IsOk());
  ClientOptions o;
  o.timeout_ms = 0;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ClientOptions::timeout_ms")));
  o = {};
  o.max_message_bytes = -1;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_message_bytes")));
  o = {};
  o.connect_timeout_ms = -5;
  EXPECT_THAT(Client::Connect("127.0.0.1:1", o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("connect_timeout_ms")));
  EXPECT_THAT(Client::Connect(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target")));
}

TEST(ValidateLocalizeRequestTest, ExactlyOneInput) {
  EXPECT_THAT(ValidateLocalizeRequest(ImageRequest("jpeg"), 0), IsOk());
  LocalizeRequest none = ImageRequest("");
  EXPECT_THAT(ValidateLocalizeRequest(none, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no input")));
  LocalizeRequest both = ImageRequest("jpeg");
  both.keypoints = {1, 2, 3, 4};
  both.descriptors = {1, 2};
  both.descriptor_dim = 2;
  EXPECT_THAT(ValidateLocalizeRequest(both, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both")));
}

TEST(ValidateLocalizeRequestTest, FeatureShapes) {
  LocalizeRequest r = ImageRequest("");
  r.keypoints = {1, 2, 3, 4, 5, 6, 7, 8};
  r.descriptors.assign(2 * 128, 7);
  r.descriptor_dim = 128;
  EXPECT_THAT(ValidateLocalizeRequest(r, 0), IsOk());
  r.keypoints.pop_back();
  EXPECT_THAT(ValidateLocalizeRequest(r, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 per keypoint")));
  r.keypoints.push_back(8);
  r.descriptors.pop_back();
  EXPECT_THAT(ValidateLocalizeRequest(r, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("descriptors")));
  r.descriptors.push_back(7);
  r.descriptor_dim = 0;
  EXPECT_THAT(ValidateLocalizeRequest(r, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("descriptor_dim")));
  r.descriptor_dim = 128;
  EXPECT_THAT(ValidateLocalizeRequest(r, 100), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
  r.timeout_ms = -1;
  EXPECT_THAT(ValidateLocalizeRequest(r, 0), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout_ms")));
}

// An oversized image is refused before anything is sent: INVALID_ARGUMENT
// even though no server listens (sending would give UNAVAILABLE).
TEST(ClientTest, RefusesOversizedImageBeforeSending) {
  ClientOptions o;
  o.max_message_bytes = 1000;
  auto client = Client::Connect(ClosedTarget(), o);
  ASSERT_THAT(client, IsOk());
  EXPECT_THAT((*client)->Localize(ImageRequest(std::string(1001, 'x'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_message_bytes")));
  // Under the raw limit but over it once encoded with the camera and prior.
  EXPECT_THAT((*client)->Localize(ImageRequest(std::string(995, 'x'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encodes to")));
}

// Connecting does not touch the network; the first call to a closed port
// fails with UNAVAILABLE (gRPC's fail-fast) well within its timeout.
TEST(ClientTest, ClosedPortIsUnavailable) {
  ClientOptions o;
  o.timeout_ms = 2000;
  auto client = Client::Connect(ClosedTarget(), o);
  ASSERT_THAT(client, IsOk());
  auto t0 = Clock::now();
  EXPECT_THAT((*client)->Localize(ImageRequest("jpeg")), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Localize")));
  EXPECT_LT(MsSince(t0), o.timeout_ms + 1000);
  EXPECT_THAT((*client)->ListMaps(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("ListMaps")));
  EXPECT_THAT((*client)->GetMapInfo("x"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("GetMapInfo")));
}

// WaitForReady gives up after its timeout, not before.
TEST(ClientTest, WaitForReadyTimesOut) {
  auto client = Client::Connect(ClosedTarget());
  ASSERT_THAT(client, IsOk());
  const auto t0 = Clock::now();
  EXPECT_THAT((*client)->WaitForReady(300), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("within 300 ms")));
  const double ms = MsSince(t0);
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 3000);
}

TEST(ClientTest, ConnectWithTimeoutFailsOnClosedPort) {
  ClientOptions o;
  o.connect_timeout_ms = 200;
  const auto t0 = Clock::now();
  EXPECT_THAT(Client::Connect(ClosedTarget(), o), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_GE(MsSince(t0), 150);
}

TEST(ClientTest, StreamToClosedPortIsUnavailable) {
  ClientOptions o;
  o.timeout_ms = 2000;
  auto client = Client::Connect(ClosedTarget(), o);
  ASSERT_THAT(client, IsOk());
  auto session = (*client)->OpenStream();
  if (!session.ok()) {
    EXPECT_THAT(session, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
    return;
  }
  // gRPC may report the failure only at the first message.
  EXPECT_THAT((*session)->Localize(ImageRequest("jpeg")), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  EXPECT_THAT((*session)->Close(), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

}  // namespace
}  // namespace armap::sdk
