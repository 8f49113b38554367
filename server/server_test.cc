// The gRPC server end to end on loopback: a real Server on 127.0.0.1:0 over
// the small synthetic city's map, called through the generated stub (and a
// generic stub for the health and reflection services), plus `armap serve`
// as a child process.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "armap/v1/localization.grpc.pb.h"
#include <opencv2/imgcodecs.hpp>

#include "core/features/extractor.h"
#include "core/json.h"
#include "core/rigid3.h"
#include "core/testing/status_matchers.h"
#include "server/convert.h"
#include "server/server.h"
#include "tests/fixtures/small_map.h"

namespace armap::server {
namespace {

namespace fs = std::filesystem;
using ::armap::testing::GetSmallMap;
using ::testing::HasSubstr;

// The server must pass the localizer's answer through unchanged: the round
// trip is compared with the in-process localizer to 1e-6, and with the truth
// loosely (the localizer's own accuracy is tested in localization/; on the
// small city its successes are within 0.45 m / 1.2 deg, measured). A pose
// mangled on the wire (quaternion order, centre for translation) is off by
// metres or tens of degrees.
constexpr double kMaxPositionErrorM = 1.0;
constexpr double kMaxRotationErrorDeg = 2.0;
constexpr double kMaxFeaturesPositionErrorM = 1.0;  // see LocalizeFeaturesRoundTrip
constexpr double kMaxFeaturesRotationErrorDeg = 3.0;

struct FixtureQuery {
  std::string name;
  std::string image_bytes;
  v1::CameraIntrinsics camera;
  v1::Prior prior;  // GPS position + accuracy + gravity, as the phone sends them
  Rigid3d gt_cam_from_world;
  bool localizable = false;
};

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<FixtureQuery>& Queries() {
  static const std::vector<FixtureQuery> queries = [] {
    const auto& small = GetSmallMap();
    auto json = ReadJsonFile(small.queries_json());
    auto gt = ReadJsonFile(small.queries_gt_json());
    EXPECT_TRUE(json.ok() && gt.ok());
    std::map<std::string, const Json*> gt_by_name;
    for (const Json& q : (*gt)["queries"]) gt_by_name[q["name"].get<std::string>()] = &q;
    std::vector<FixtureQuery> out;
    for (const Json& q : (*json)["queries"]) {
      FixtureQuery f;
      f.name = q["name"].get<std::string>();
      f.image_bytes = ReadBytes(small.capture_dir / q["image"].get<std::string>());
      const Json& cam = q["camera"];
      f.camera.set_model(cam["model"].get<std::string>());
      f.camera.set_width(cam["width"].get<uint32_t>());
      f.camera.set_height(cam["height"].get<uint32_t>());
      for (double p : cam["params"]) f.camera.add_params(p);
      const Json& prior = q["prior"];
      f.prior.mutable_position()->set_lat_deg(prior["lat"].get<double>());
      f.prior.mutable_position()->set_lon_deg(prior["lon"].get<double>());
      f.prior.mutable_position()->set_alt_m(prior["alt"].get<double>());
      f.prior.set_accuracy_m(prior["accuracy_m"].get<double>());
      f.prior.mutable_gravity_in_cam()->set_x(prior["gravity"][0].get<double>());
      f.prior.mutable_gravity_in_cam()->set_y(prior["gravity"][1].get<double>());
      f.prior.mutable_gravity_in_cam()->set_z(prior["gravity"][2].get<double>());
      const Json& g = *gt_by_name.at(f.name);
      const Json& qv = g["cam_from_world"]["q"];
      const Json& tv = g["cam_from_world"]["t"];
      f.gt_cam_from_world = Rigid3d(Eigen::Quaterniond(qv[0].get<double>(), qv[1].get<double>(),
                                                       qv[2].get<double>(), qv[3].get<double>()),
                                    Eigen::Vector3d(tv[0].get<double>(), tv[1].get<double>(), tv[2].get<double>()));
      f.localizable = g["localizable"].get<bool>();
      out.push_back(std::move(f));
    }
    return out;
  }();
  return queries;
}

std::vector<const FixtureQuery*> LocalizableQueries() {
  std::vector<const FixtureQuery*> out;
  for (const FixtureQuery& q : Queries()) {
    if (q.localizable) out.push_back(&q);
  }
  return out;
}

v1::LocalizeRequest MakeRequest(const FixtureQuery& q, const std::string& request_id) {
  v1::LocalizeRequest request;
  *request.mutable_camera() = q.camera;
  request.set_image(q.image_bytes);
  *request.mutable_prior() = q.prior;
  request.set_request_id(request_id);
  return request;
}

// Position (m) and rotation (deg) error of a response against the truth.
std::pair<double, double> PoseError(const v1::LocalizeResponse& response, const Rigid3d& gt) {
  auto cam_from_world = Rigid3FromProto(response.cam_from_world(), "response");
  if (!cam_from_world.ok()) return {std::numeric_limits<double>::infinity(), 180.0};
  return {(CameraCenter(*cam_from_world) - CameraCenter(gt)).norm(),
          RotationErrorDeg(cam_from_world->rotation, gt.rotation)};
}

void SetDeadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(LocalizableQueries().empty()); }

  void StartServer(ServerOptions options = {}) {
    if (options.map_dirs.empty()) options.map_dirs = {GetSmallMap().map_dir};
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.num_workers == 0) options.num_workers = 2;
    auto server = Server::Start(options);
    ASSERT_THAT(server, ::armap::testing::IsOk());
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Localization::NewStub(channel_);
  }

  grpc::Status Localize(const v1::LocalizeRequest& request, v1::LocalizeResponse* response,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    grpc::ClientContext context;
    SetDeadline(&context, timeout);
    return stub_->Localize(&context, request, response);
  }

  void ExpectAccurate(const v1::LocalizeResponse& response, const FixtureQuery& q) {
    const auto [position_m, rotation_deg] = PoseError(response, q.gt_cam_from_world);
    EXPECT_LT(position_m, kMaxPositionErrorM) << q.name;
    EXPECT_LT(rotation_deg, kMaxRotationErrorDeg) << q.name;
  }

  // Localizes the localizable queries until one succeeds; that one is
  // reused by the tests that need a known-good request.
  const FixtureQuery* FirstGoodQuery() {
    for (const FixtureQuery* q : LocalizableQueries()) {
      v1::LocalizeResponse response;
      if (Localize(MakeRequest(*q, "probe"), &response).ok() && response.success()) return q;
    }
    return nullptr;
  }

  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Localization::Stub> stub_;
};

TEST_F(ServerTest, LocalizeRoundTripIsAccurate) {
  StartServer();
  auto reference = loc::Localizer::Load(GetSmallMap().map_dir, loc::Localizer::Options());
  ASSERT_THAT(reference, ::armap::testing::IsOk());
  int num_success = 0;
  const auto localizable = LocalizableQueries();
  for (const FixtureQuery* q : localizable) {
    v1::LocalizeResponse response;
    const grpc::Status status = Localize(MakeRequest(*q, "rt-" + q->name), &response);
    ASSERT_TRUE(status.ok()) << q->name << ": " << status.error_message();
    EXPECT_EQ(response.request_id(), "rt-" + q->name);
    EXPECT_EQ(response.map_id(), server_->map_ids().front());
    EXPECT_GT(response.map_version(), 0);
    EXPECT_GT(response.server_ms(), 0);
    EXPECT_FALSE(response.stages().empty());
    EXPECT_GT(response.num_features(), 0);
    if (!response.success()) {
      EXPECT_NE(response.failure_reason(), v1::FAILURE_REASON_NONE) << q->name;
      continue;
    }
    ++num_success;
    EXPECT_EQ(response.failure_reason(), v1::FAILURE_REASON_NONE);
    EXPECT_TRUE(response.has_geo_pose());
    EXPECT_GT(response.confidence(), 0);
    EXPECT_GT(response.num_inliers(), 0);
    ExpectAccurate(response, *q);
    // The same query in-process gives the same pose (the localizer is
    // deterministic).
    auto query = QueryFromProto(MakeRequest(*q, "in-process"));
    ASSERT_THAT(query, ::armap::testing::IsOk());
    auto direct = (*reference)->Localize(*query);
    ASSERT_THAT(direct, ::armap::testing::IsOk());
    ASSERT_TRUE(direct->success) << q->name;
    auto wire = Rigid3FromProto(response.cam_from_world(), "cam_from_world");
    ASSERT_THAT(wire, ::armap::testing::IsOk());
    EXPECT_LT((CameraCenter(*wire) - CameraCenter(direct->cam_from_world)).norm(), 1e-6) << q->name;
    EXPECT_LT(RotationErrorDeg(wire->rotation, direct->cam_from_world.rotation), 1e-6) << q->name;
    EXPECT_EQ(response.num_inliers(), direct->num_inliers);
  }
  // 5 of the 9 localizable queries are found (the localizer's own tests hold
  // its recall); here it is enough that the round trip clearly works.
  EXPECT_GE(num_success, 3)
      << num_success << " of " << localizable.size() << " localizable queries";
}

// The phone-side path: features extracted with the map's extractor options
// (from GetMapInfo), packed 4 floats per keypoint.
TEST_F(ServerTest, LocalizeFeaturesRoundTrip) {
  StartServer();
  grpc::ClientContext info_context;
  SetDeadline(&info_context, std::chrono::seconds(10));
  v1::MapInfo info;
  ASSERT_TRUE(stub_->GetMapInfo(&info_context, v1::GetMapInfoRequest(), &info).ok());
  features::ExtractorOptions eo;
  eo.type = info.extractor().type();
  eo.max_features = 2000;
  eo.contrast_threshold = info.extractor().contrast_threshold();
  eo.edge_threshold = info.extractor().edge_threshold();
  eo.octave_layers = info.extractor().octave_layers();
  auto extractor = features::FeatureExtractor::Create(eo);
  ASSERT_THAT(extractor, ::armap::testing::IsOk());
  int num_success = 0;
  for (const FixtureQuery* q : LocalizableQueries()) {
    const std::vector<uint8_t> bytes(q->image_bytes.begin(), q->image_bytes.end());
    const cv::Mat image = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(image.empty()) << q->name;
    auto set = (*extractor)->Extract({image.data, image.cols, image.rows, 1, image.step[0]});
    ASSERT_THAT(set, ::armap::testing::IsOk());
    v1::LocalizeRequest request = MakeRequest(*q, "features-" + q->name);
    FeaturesToProto(*set, request.mutable_features());  // replaces the image (oneof)
    ASSERT_EQ(request.input_case(), v1::LocalizeRequest::kFeatures);
    v1::LocalizeResponse response;
    const grpc::Status status = Localize(request, &response);
    ASSERT_TRUE(status.ok()) << q->name << ": " << status.error_message();
    EXPECT_EQ(response.num_features(), static_cast<int>(set->size()));
    if (response.success()) {
      ++num_success;
      // Full-resolution features (the image path downscales) are less
      // tight: q0003, a weakly constrained view, is answered 0.87 m / 2.1 deg
      // off (measured; a pose-covariance check in the localizer is the
      // proper fix), the others within about 0.2 m / 0.3 deg. A pose
      // mangled on the wire is still off by far more.
      const auto [position_m, rotation_deg] = PoseError(response, q->gt_cam_from_world);
      EXPECT_LT(position_m, kMaxFeaturesPositionErrorM) << q->name;
      EXPECT_LT(rotation_deg, kMaxFeaturesRotationErrorDeg) << q->name;
    }
  }
  EXPECT_GE(num_success, 3);
}

TEST_F(ServerTest, LocalizeStreamAnswersInOrderAndChainsPriors) {
  StartServer();
  const FixtureQuery* good = FirstGoodQuery();
  ASSERT_NE(good, nullptr);
  const auto localizable = LocalizableQueries();
  const FixtureQuery* other = localizable.back() == good ? localizable.front() : localizable.back();

  // 1: the good query with its GPS prior; 2: the same photo with no prior at
  // all (the server uses the pose of 1); 3: another query with its own prior.
  std::vector<v1::LocalizeRequest> requests = {MakeRequest(*good, "s1"), MakeRequest(*good, "s2"),
                                               MakeRequest(*other, "s3")};
  requests[1].clear_prior();
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(120));
  auto stream = stub_->LocalizeStream(&context);
  std::vector<v1::LocalizeResponse> responses;
  for (const v1::LocalizeRequest& request : requests) {
    ASSERT_TRUE(stream->Write(request));
    v1::LocalizeResponse response;
    ASSERT_TRUE(stream->Read(&response));
    responses.push_back(response);
  }
  stream->WritesDone();
  v1::LocalizeResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].request_id(), "s1");
  EXPECT_EQ(responses[1].request_id(), "s2");
  EXPECT_EQ(responses[2].request_id(), "s3");
  ASSERT_TRUE(responses[0].success());
  ExpectAccurate(responses[0], *good);
  ASSERT_TRUE(responses[1].success()) << responses[1].failure_message();
  ExpectAccurate(responses[1], *good);
  if (responses[2].success()) ExpectAccurate(responses[2], *other);
  for (const auto& r : responses) EXPECT_GT(r.server_ms(), 0);
}

TEST_F(ServerTest, LocalizeStreamFinishesWithTheErrorOfAnInvalidRequest) {
  StartServer();
  const FixtureQuery* good = FirstGoodQuery();
  ASSERT_NE(good, nullptr);
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(60));
  auto stream = stub_->LocalizeStream(&context);
  ASSERT_TRUE(stream->Write(MakeRequest(*good, "ok")));
  v1::LocalizeResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(response.success());
  v1::LocalizeRequest bad = MakeRequest(*good, "bad");
  bad.clear_camera();
  stream->Write(bad);
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("camera"));
  // The server goes on serving.
  EXPECT_TRUE(Localize(MakeRequest(*good, "after"), &response).ok());
  EXPECT_TRUE(response.success());
}

TEST_F(ServerTest, ListMapsAndGetMapInfo) {
  StartServer();
  grpc::ClientContext list_context;
  SetDeadline(&list_context, std::chrono::seconds(10));
  v1::ListMapsResponse list;
  ASSERT_TRUE(stub_->ListMaps(&list_context, v1::ListMapsRequest(), &list).ok());
  ASSERT_EQ(list.maps_size(), 1);
  const v1::MapInfo& info = list.maps(0);
  EXPECT_FALSE(info.map_id().empty());
  EXPECT_EQ(info.map_id(), server_->map_ids().front());
  EXPECT_GT(info.map_version(), 0);
  EXPECT_GT(info.num_views(), 0);
  EXPECT_GT(info.num_landmarks(), 0);
  EXPECT_EQ(info.extractor().type(), "rootsift");
  EXPECT_GT(info.extractor().max_features(), 0);
  EXPECT_LT(info.bbox_min_m().x(), info.bbox_max_m().x());
  EXPECT_NE(info.origin().lat_deg(), 0);

  for (const std::string& id : {std::string(), info.map_id()}) {
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(10));
    v1::GetMapInfoRequest request;
    request.set_map_id(id);
    v1::MapInfo got;
    ASSERT_TRUE(stub_->GetMapInfo(&context, request, &got).ok()) << "map_id '" << id << "'";
    EXPECT_EQ(got.SerializeAsString(), info.SerializeAsString());
  }
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  v1::GetMapInfoRequest request;
  request.set_map_id("no_such_map");
  v1::MapInfo got;
  const grpc::Status status = stub_->GetMapInfo(&context, request, &got);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_map"));
}

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return {};
  std::string out;
  for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// grpc.health.v1.Health/Check through a generic stub (Debian ships no
// generated health client): HealthCheckRequest{service = 1} ->
// HealthCheckResponse{status = 1}, SERVING = 1.
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                         std::string* response_bytes) {
  grpc::GenericStub stub(channel);
  std::string request_bytes;
  if (!service.empty()) request_bytes = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  *response_bytes = ByteBufferToString(response);
  return status;
}

TEST_F(ServerTest, HealthCheckServesAndReflectionListsTheService) {
  StartServer();
  const std::string kServing("\x08\x01", 2);
  for (const std::string& service : {std::string(), std::string("armap.v1.Localization")}) {
    std::string response;
    const grpc::Status status = HealthCheck(channel_, service, &response);
    ASSERT_TRUE(status.ok()) << "'" << service << "': " << status.error_message();
    EXPECT_EQ(response, kServing) << "'" << service << "'";
  }
  std::string response;
  EXPECT_EQ(HealthCheck(channel_, "no.such.Service", &response).error_code(), grpc::NOT_FOUND);

  // Reflection: ServerReflectionRequest{list_services = 7: ""}.
  grpc::GenericStub stub(channel_);
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_TRUE(status.ok()) << status.error_message();
  const std::string services = ByteBufferToString(reply);
  EXPECT_THAT(services, HasSubstr("armap.v1.Localization"));
  EXPECT_THAT(services, HasSubstr("grpc.health.v1.Health"));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// A baseline JPEG header (SOI, SOF0) claiming 60000 x 60000 pixels and no
// image data after it.
std::string HugeJpegHeader() {
  const unsigned char bytes[] = {0xFF, 0xD8,                                      // SOI
                                 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00,
                                 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,              // APP0
                                 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x03,
                                 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,  // SOF0
                                 0xFF, 0xD9};                                     // EOI
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

TEST_F(ServerTest, BadRequestsAreInvalidArgumentAndTheServerGoesOn) {
  StartServer();
  const FixtureQuery* good = FirstGoodQuery();
  ASSERT_NE(good, nullptr);
  const v1::LocalizeRequest base = MakeRequest(*good, "bad");
  struct Case {
    std::string name;
    v1::LocalizeRequest request;
    std::string message;  // expected in the status message
  };
  std::vector<Case> cases;
  {
    v1::LocalizeRequest r = base;
    r.set_image("this is not an image at all");
    cases.push_back({"garbage image", r, "image"});
  }
  {
    v1::LocalizeRequest r = base;
    r.set_image(HugeJpegHeader());
    cases.push_back({"60000x60000 jpeg header", r, "60000"});
  }
  {
    v1::LocalizeRequest r = base;
    r.mutable_camera()->set_params(0, 0.0);
    r.mutable_camera()->set_params(1, 0.0);
    cases.push_back({"zero focal length", r, "focal"});
  }
  {
    v1::LocalizeRequest r = base;
    r.mutable_camera()->set_params(2, std::nan(""));
    cases.push_back({"NaN intrinsics", r, "finite"});
  }
  {
    v1::LocalizeRequest r = base;
    r.mutable_camera()->clear_params();
    cases.push_back({"no intrinsics", r, "params"});
  }
  {
    v1::LocalizeRequest r = base;
    r.clear_camera();
    cases.push_back({"missing camera", r, "camera is missing"});
  }
  {
    v1::LocalizeRequest r = base;
    r.clear_input();
    cases.push_back({"neither image nor features", r, "image"});
  }
  {
    v1::LocalizeRequest r = base;
    v1::Features* f = r.mutable_features();
    for (int i = 0; i < 10; ++i) f->add_keypoints(1.0f);
    f->set_descriptor_dim(128);
    f->set_descriptors(std::string(2 * 128, '\0'));
    cases.push_back({"keypoints not a multiple of 4", r, "4 per keypoint"});
  }
  {
    v1::LocalizeRequest r = base;
    v1::Features* f = r.mutable_features();
    for (int i = 0; i < 12; ++i) f->add_keypoints(10.0f);
    f->set_descriptor_dim(128);
    f->set_descriptors(std::string(2 * 128, '\0'));  // 3 keypoints need 384 bytes
    cases.push_back({"descriptor size mismatch", r, "384"});
  }
  {
    v1::LocalizeRequest r = base;
    r.mutable_prior()->mutable_gravity_in_cam()->set_x(0);
    r.mutable_prior()->mutable_gravity_in_cam()->set_y(0);
    r.mutable_prior()->mutable_gravity_in_cam()->set_z(0);
    cases.push_back({"zero gravity", r, "gravity_in_cam"});
  }
  {
    v1::LocalizeRequest r = base;
    r.mutable_prior()->mutable_cam_from_world()->set_qw(0);
    cases.push_back({"zero quaternion prior", r, "cam_from_world"});
  }
  for (const Case& c : cases) {
    v1::LocalizeResponse response;
    const grpc::Status status = Localize(c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.name;
    EXPECT_FALSE(status.error_message().empty()) << c.name;
  }
  v1::LocalizeResponse response;
  const grpc::Status status = Localize(MakeRequest(*good, "after"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.success());
  ExpectAccurate(response, *good);
}

TEST_F(ServerTest, UnknownMapIdIsNotFound) {
  StartServer();
  v1::LocalizeRequest request = MakeRequest(*LocalizableQueries().front(), "unknown");
  request.set_map_id("atlantis");
  v1::LocalizeResponse response;
  const grpc::Status status = Localize(request, &response);
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("atlantis"));
  EXPECT_THAT(status.error_message(), HasSubstr(server_->map_ids().front()));
}

TEST_F(ServerTest, TinyDeadlineIsDeadlineExceeded) {
  StartServer();
  v1::LocalizeResponse response;
  const grpc::Status status =
      Localize(MakeRequest(*LocalizableQueries().front(), "tiny"), &response, std::chrono::milliseconds(1));
  EXPECT_EQ(status.error_code(), grpc::DEADLINE_EXCEEDED);
}

// Waits until `pred` holds (polling), up to `timeout`.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// An asynchronous Localize whose destructor cancels it and waits for its end,
// so an early ASSERT return never leaves a callback aimed at a dead frame.
class AsyncLocalize {
 public:
  AsyncLocalize(v1::Localization::Stub* stub, v1::LocalizeRequest request, std::chrono::milliseconds timeout)
      : request_(std::move(request)), future_(done_.get_future().share()) {
    SetDeadline(&context_, timeout);
    stub->async()->Localize(&context_, &request_, &response_,
                            [this](grpc::Status s) { done_.set_value(std::move(s)); });
  }
  ~AsyncLocalize() {
    context_.TryCancel();
    future_.wait();
  }
  bool done() const { return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
  bool WaitFor(std::chrono::milliseconds timeout) const {
    return future_.wait_for(timeout) == std::future_status::ready;
  }
  grpc::Status Wait() const { return future_.get(); }

 private:
  grpc::ClientContext context_;
  v1::LocalizeRequest request_;
  v1::LocalizeResponse response_;
  std::promise<grpc::Status> done_;
  std::shared_future<grpc::Status> future_;
};

// One worker, busy with a slow request: a request whose deadline passes
// while it waits in the queue is finished without running the localizer,
// and one beyond the queue bound is refused at once.
TEST_F(ServerTest, QueuedRequestsHonourDeadlinesAndTheQueueBound) {
  ServerOptions options;
  options.num_workers = 1;
  options.max_queued_requests = 1;
  StartServer(options);
  const FixtureQuery& q = *LocalizableQueries().front();
  // How long one request keeps the worker busy: the faster of two (the
  // first also pays one-time set-up, so it overstates A's time, and B's
  // deadline must fall well inside A's work even on a loaded machine).
  v1::LocalizeResponse warmup[2];
  ASSERT_TRUE(Localize(MakeRequest(q, "warmup"), &warmup[0]).ok());
  ASSERT_TRUE(Localize(MakeRequest(q, "warmup"), &warmup[1]).ok());
  const auto work = std::chrono::milliseconds(
      static_cast<int64_t>(std::min(warmup[0].server_ms(), warmup[1].server_ms())));
  ASSERT_GT(work.count(), 40) << "too fast to queue behind";

  // A: occupies the worker.
  AsyncLocalize a(stub_.get(), MakeRequest(q, "a"), std::chrono::seconds(60));
  ASSERT_TRUE(WaitFor([&] { return server_->stats().requests_processed >= 3; }, std::chrono::seconds(30)));
  // B: queued behind A with a deadline well within A's work.
  AsyncLocalize b(stub_.get(), MakeRequest(q, "b"), work / 4);
  ASSERT_TRUE(WaitFor([&] { return server_->stats().requests_received >= 4; }, std::chrono::seconds(10)));
  // C: the queue (1) is full.
  v1::LocalizeResponse response_c;
  const grpc::Status status_c = Localize(MakeRequest(q, "c"), &response_c, std::chrono::seconds(10));
  const bool a_still_running = !a.done();

  EXPECT_EQ(b.Wait().error_code(), grpc::DEADLINE_EXCEEDED);
  if (a_still_running) {
    EXPECT_EQ(status_c.error_code(), grpc::RESOURCE_EXHAUSTED) << status_c.error_message();
    EXPECT_THAT(status_c.error_message(), HasSubstr("busy"));
    EXPECT_EQ(server_->stats().rejected_queue_full, 1);
  }
  EXPECT_TRUE(a.Wait().ok());
  ASSERT_TRUE(WaitFor([&] { return server_->stats().expired_before_work >= 1; }, std::chrono::seconds(60)))
      << "B was worked on although its deadline had passed";
  EXPECT_EQ(server_->stats().requests_processed, 3) << "only the warm-ups and A ran the localizer";
}

// Shutdown while a worker is busy and a request waits: both calls end (the
// queued one without being worked on), and Shutdown returns.
TEST_F(ServerTest, ShutdownWithWorkInFlightEndsEveryCall) {
  ServerOptions options;
  options.num_workers = 1;
  StartServer(options);
  const FixtureQuery& q = *LocalizableQueries().front();
  AsyncLocalize a(stub_.get(), MakeRequest(q, "a"), std::chrono::seconds(60));
  AsyncLocalize b(stub_.get(), MakeRequest(q, "b"), std::chrono::seconds(60));
  ASSERT_TRUE(WaitFor([&] { return server_->stats().requests_received >= 2; }, std::chrono::seconds(10)));
  server_->Shutdown(std::chrono::milliseconds(50));
  EXPECT_TRUE(a.WaitFor(std::chrono::seconds(30)));
  EXPECT_TRUE(b.WaitFor(std::chrono::seconds(30)));
  EXPECT_FALSE(a.Wait().ok() && b.Wait().ok()) << "the queued call cannot have been answered";
  EXPECT_LE(server_->stats().requests_processed, 1);
  server_->Wait();
}

// A copy of the small map under another id, for the multi-map cases.
fs::path SecondMap() {
  const fs::path dir = fs::temp_directory_path() / ("armap_server_test_map_b_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(GetSmallMap().map_dir, dir, fs::copy_options::recursive);
  auto manifest = ReadJsonFile(dir / "manifest.json");
  EXPECT_TRUE(manifest.ok());
  (*manifest)["map_id"] = "small_city_b";
  std::ofstream(dir / "manifest.json") << manifest->dump(2);
  return dir;
}

TEST_F(ServerTest, ServesSeveralMapsById) {
  const fs::path second = SecondMap();
  ServerOptions options;
  options.map_dirs = {GetSmallMap().map_dir, second};
  StartServer(options);
  const std::vector<std::string> ids = server_->map_ids();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[1], "small_city_b");

  v1::LocalizeRequest request = MakeRequest(*LocalizableQueries().front(), "multi");
  v1::LocalizeResponse response;
  grpc::Status status = Localize(request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr(ids[0]));
  EXPECT_THAT(status.error_message(), HasSubstr(ids[1]));
  for (const std::string& id : ids) {
    request.set_map_id(id);
    status = Localize(request, &response);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    EXPECT_EQ(response.map_id(), id);
  }
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(10));
  v1::ListMapsResponse list;
  ASSERT_TRUE(stub_->ListMaps(&context, v1::ListMapsRequest(), &list).ok());
  ASSERT_EQ(list.maps_size(), 2);
  EXPECT_EQ(list.maps(1).map_id(), "small_city_b");
  server_.reset();
  fs::remove_all(second);
}

TEST(ServerStartTest, RefusesBadOptionsMissingMapsAndDuplicateIds) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  EXPECT_THAT(Server::Start(options), ::armap::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("map_dirs")));
  options.map_dirs = {"/nonexistent/armap_map"};
  options.num_workers = -1;
  EXPECT_THAT(Server::Start(options),
              ::armap::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_workers")));
  options.num_workers = 1;
  auto missing = Server::Start(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/armap_map"));
  options.map_dirs = {GetSmallMap().map_dir, GetSmallMap().map_dir};
  EXPECT_THAT(Server::Start(options),
              ::armap::testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("served twice")));
}

TEST(ServerStartTest, ShutdownIsIdempotentAndWaitReturns) {
  ServerOptions options;
  options.map_dirs = {GetSmallMap().map_dir};
  options.host = "127.0.0.1";
  options.port = 0;
  options.num_workers = 1;
  auto server = Server::Start(options);
  ASSERT_THAT(server, ::armap::testing::IsOk());
  std::thread waiter([&] { (*server)->Wait(); });
  (*server)->Shutdown();
  (*server)->Shutdown();
  waiter.join();
}

// ---- `armap serve` as a user runs it ---------------------------------------------

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
};

// stdout is piped to the caller; stderr goes to `stderr_path` when given.
Child SpawnArmap(const std::vector<std::string>& args, const std::string& stderr_path = "") {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!stderr_path.empty()) {
      const int err = ::open(stderr_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
    }
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    std::string program = ARMAP_CLI;
    argv.push_back(program.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, ::fdopen(fds[0], "r")};
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Reads the port from "serving N map(s) [ids] on HOST:PORT".
int PortFromReadyLine(const std::string& line) {
  const size_t colon = line.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(line.c_str() + colon + 1);
}

TEST(ServeCommandTest, PrintsReadyLineServesAndExitsCleanlyOnSignal) {
  const std::string map_dir = GetSmallMap().map_dir.string();
  for (int sig : {SIGTERM, SIGINT}) {
    Child child = SpawnArmap({"-q", "serve", "--map", map_dir, "--host", "127.0.0.1", "--port", "0", "--workers", "1"});
    ASSERT_GT(child.pid, 0);
    ASSERT_NE(child.out, nullptr);
    char line[512] = {0};
    ASSERT_NE(std::fgets(line, sizeof(line), child.out), nullptr) << "no ready line";
    const std::string ready(line);
    EXPECT_THAT(ready, HasSubstr("serving 1 map(s) ["));
    EXPECT_THAT(ready, HasSubstr("] on 127.0.0.1:"));
    const int port = PortFromReadyLine(ready);
    ASSERT_GT(port, 0) << ready;

    auto stub = v1::Localization::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(10));
    v1::ListMapsResponse list;
    ASSERT_TRUE(stub->ListMaps(&context, v1::ListMapsRequest(), &list).ok());
    EXPECT_EQ(list.maps_size(), 1);
    EXPECT_THAT(ready, HasSubstr(list.maps(0).map_id()));

    ASSERT_EQ(::kill(child.pid, sig), 0);
    EXPECT_EQ(WaitExit(child.pid), 0) << "signal " << sig;
    std::fclose(child.out);
  }
}

TEST(ServeCommandTest, LogsOneJsonLinePerRequest) {
  const fs::path log_path = fs::temp_directory_path() / ("armap_serve_log_" + std::to_string(::getpid()) + ".txt");
  Child child = SpawnArmap({"serve", "--map", GetSmallMap().map_dir.string(), "--host", "127.0.0.1", "--port", "0",
                            "--workers", "1"},
                           log_path.string());
  ASSERT_GT(child.pid, 0);
  char line[512] = {0};
  ASSERT_NE(std::fgets(line, sizeof(line), child.out), nullptr);
  const int port = PortFromReadyLine(line);
  ASSERT_GT(port, 0) << line;
  auto stub = v1::Localization::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  const FixtureQuery* good = nullptr;
  for (const FixtureQuery* q : LocalizableQueries()) {
    grpc::ClientContext context;
    SetDeadline(&context, std::chrono::seconds(60));
    v1::LocalizeResponse response;
    if (stub->Localize(&context, MakeRequest(*q, "log-good"), &response).ok() && response.success()) {
      good = q;
      break;
    }
  }
  ASSERT_NE(good, nullptr);
  v1::LocalizeRequest bad = MakeRequest(*good, "log-bad");
  bad.clear_camera();
  grpc::ClientContext context;
  SetDeadline(&context, std::chrono::seconds(60));
  v1::LocalizeResponse response;
  EXPECT_EQ(stub->Localize(&context, bad, &response).error_code(), grpc::INVALID_ARGUMENT);
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(child.pid), 0);
  std::fclose(child.out);

  // Each log line is "[time level] {json}"; find the two Localize answers.
  std::ifstream in(log_path);
  std::map<std::string, Json> by_request_id;
  for (std::string text; std::getline(in, text);) {
    const size_t brace = text.find('{');
    if (brace == std::string::npos) continue;
    const Json j = Json::parse(text.substr(brace), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.value("rpc", "") == "Localize") by_request_id[j.value("request_id", "")] = j;
  }
  fs::remove(log_path);
  ASSERT_EQ(by_request_id.count("log-good"), 1u);
  ASSERT_EQ(by_request_id.count("log-bad"), 1u);
  const Json& ok_line = by_request_id["log-good"];
  EXPECT_EQ(ok_line["code"], "OK");
  EXPECT_EQ(ok_line["success"], true);
  EXPECT_GT(ok_line["inliers"].get<int>(), 0);
  EXPECT_GT(ok_line["server_ms"].get<double>(), 0);
  EXPECT_FALSE(ok_line["map_id"].get<std::string>().empty());
  EXPECT_THAT(ok_line["peer"].get<std::string>(), HasSubstr("127.0.0.1"));
  const Json& bad_line = by_request_id["log-bad"];
  EXPECT_EQ(bad_line["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(bad_line["success"], false);
}

TEST(ServeCommandTest, BadMapPathFailsWithAClearError) {
  const std::string command =
      std::string(ARMAP_CLI) + " serve --map /nonexistent/armap_serve_map --host 127.0.0.1 --port 0 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe)) output += buffer;
  const int status = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << output;
  EXPECT_THAT(output, HasSubstr("/nonexistent/armap_serve_map"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("serving")));
}

}  // namespace
}  // namespace armap::server
