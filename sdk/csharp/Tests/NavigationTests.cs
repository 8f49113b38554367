// NUnit 2.6 tests of Armap.Sdk's navigation (Route, GuideSession) against
// the real `armap serve` csharp_test.cc starts on the small fixture map with
// the city's POIs written in. ARMAP_TEST_QUERY's file names the POI
// (poi=English name), where the network reaches it (poi_on_network=lat,lon)
// and a start node of the network (nav_start=lat,lon).
using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Armap.Sdk.Tests
{
    [TestFixture]
    public class NavigationTests
    {
        ArmapClient client_;
        string poi_;
        double[] poiOnNetwork_, start_;

        [TestFixtureSetUp]
        public void Connect()
        {
            client_ = ArmapClient.Connect(Fixture.Server, new ClientOptions { ConnectTimeoutMs = 20000, TimeoutMs = 60000 });
            var q = Fixture.Query();
            poi_ = q["poi"];
            poiOnNetwork_ = Fixture.Doubles(q["poi_on_network"]);
            start_ = Fixture.Doubles(q["nav_start"]);
        }

        [TestFixtureTearDown]
        public void Disconnect() { client_.Dispose(); }

        RouteRequest ToPoi()
        {
            return new RouteRequest { RequestId = "csharp-nav", StartLatDeg = start_[0], StartLonDeg = start_[1], PoiName = poi_ };
        }

        // Planar metres between two WGS84 points (small distances).
        static double Metres(double lat0, double lon0, double lat1, double lon1)
        {
            const double r = 6378137.0;
            double dy = (lat1 - lat0) * Math.PI / 180 * r;
            double dx = (lon1 - lon0) * Math.PI / 180 * r * Math.Cos(lat0 * Math.PI / 180);
            return Math.Sqrt(dx * dx + dy * dy);
        }

        static double PlanarLength(MapPoint[] line)
        {
            double length = 0;
            for (int i = 1; i < line.Length; ++i) length += Math.Sqrt(Math.Pow(line[i].X - line[i - 1].X, 2) + Math.Pow(line[i].Y - line[i - 1].Y, 2));
            return length;
        }

        static ArmapException Inner(AggregateException aggregate)
        {
            var e = aggregate.InnerException as ArmapException;
            Assert.IsNotNull(e, aggregate.ToString());
            return e;
        }

        [Test]
        public void NavigationStructSizesMatchTheNativeOnes()
        {
            var p = new NativeRouteParams();
            Native.Check(NavNative.armap_route_params_init(ref p));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeRouteParams)), (int)p.StructSize);
            var s = new NativeRouteSummary();
            Native.Check(NavNative.armap_route_summary_init(ref s));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeRouteSummary)), (int)s.StructSize);
            var pose = new NativeNavPose();
            Native.Check(NavNative.armap_nav_pose_init(ref pose));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeNavPose)), (int)pose.StructSize);
            var u = new NativeGuideUpdate();
            Native.Check(NavNative.armap_guide_update_init(ref u));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeGuideUpdate)), (int)u.StructSize);
        }

        [Test]
        public void RoutesToAPoiOfTheFixtureMap()
        {
            NavRoute[] routes = client_.RouteAsync(ToPoi()).Result;
            Assert.GreaterOrEqual(routes.Length, 1);
            NavRoute r = routes[0];
            // From the start node to where the network reaches the POI, along the polyline it reports.
            Assert.Greater(r.LengthM, 20.0);
            Assert.AreEqual(r.LengthM, PlanarLength(r.PolylineMap), 0.01);
            Assert.AreEqual(r.LengthM, r.EtaS * 1.2, 1e-6, "ETA at the server's 1.2 m/s");
            Assert.AreEqual(r.PolylineMap.Length, r.PolylineWgs84.Length);
            GeoPoint first = r.PolylineWgs84[0], last = r.PolylineWgs84[r.PolylineWgs84.Length - 1];
            Assert.Less(Metres(first.LatDeg, first.LonDeg, start_[0], start_[1]), 0.5);
            Assert.Less(Metres(last.LatDeg, last.LonDeg, poiOnNetwork_[0], poiOnNetwork_[1]), 0.5);
            Assert.Less(r.StartSnapDistanceM, 0.5, "the start is a network node");
            // Maneuvers: depart first, arrive last, prompts in both languages, in order along the route.
            Assert.GreaterOrEqual(r.Maneuvers.Length, 2);
            Assert.AreEqual(ManeuverType.Depart, r.Maneuvers[0].Type);
            Assert.AreEqual(ManeuverType.Arrive, r.Maneuvers[r.Maneuvers.Length - 1].Type);
            StringAssert.Contains("arrive", r.Maneuvers[r.Maneuvers.Length - 1].PromptEn);
            Assert.IsTrue(r.Maneuvers.All(m => m.PromptZh.Length > 0 && m.PromptEn.Length > 0));
            for (int i = 1; i < r.Maneuvers.Length; ++i) Assert.GreaterOrEqual(r.Maneuvers[i].AtM, r.Maneuvers[i - 1].AtM);
            Assert.AreEqual(r.LengthM, r.Maneuvers[r.Maneuvers.Length - 1].AtM, 0.5);
            // The AR polyline: a point about every metre over the route's length.
            Assert.Greater(r.ArPolyline.Length, (int)(r.LengthM * 0.8));
            Assert.Greater(r.EdgeIds.Length, 0);
        }

        [Test]
        public void AvoidingAnEdgeCostsMoreAndKeepsOffIt()
        {
            NavRoute best = client_.Route(ToPoi())[0];
            if (best.EdgeIds.Length < 3) Assert.Inconclusive("the route has " + best.EdgeIds.Length + " edges");
            long avoid = best.EdgeIds[best.EdgeIds.Length / 2];
            var request = ToPoi();
            request.AvoidEdgeIds = new[] { avoid };
            NavRoute detour = client_.RouteAsync(request).Result[0];
            Assert.Greater(detour.Cost, best.Cost);
            CollectionAssert.DoesNotContain(detour.EdgeIds, avoid);
            // A guidance session keeps the same avoid list.
            using (GuideSession guide = client_.OpenGuide(request, NavPose.Wgs84(start_[0], start_[1], 0, 0)))
            {
                CollectionAssert.DoesNotContain(guide.First.Route.EdgeIds, avoid);
                Assert.AreEqual(detour.LengthM, guide.First.Route.LengthM, 0.01);
                guide.Close();
            }
        }

        [Test]
        public void GuidesAlongTheRouteToArrival()
        {
            Task<GuideSession> opening = client_.OpenGuideAsync(ToPoi(), NavPose.Wgs84(start_[0], start_[1], 0, 0));
            using (GuideSession guide = opening.Result)
            {
                GuideUpdate first = guide.First;
                Assert.IsNotNull(first.Route);
                Assert.AreEqual(0, first.RouteVersion);
                Assert.AreEqual(first.Route.LengthM, first.RemainingM, 1.0);
                Assert.IsNotEmpty(first.PromptEn);
                MapPoint[] line = first.Route.PolylineMap;
                double t = 0, lastProgress = first.ProgressM;
                bool arrived = false;
                int poses = 0;
                for (int i = 0; i + 1 < line.Length; ++i)
                {
                    double dx = line[i + 1].X - line[i].X, dy = line[i + 1].Y - line[i].Y, len = Math.Sqrt(dx * dx + dy * dy);
                    double heading = Math.Atan2(dx, dy) * 180 / Math.PI;
                    for (double s = 0; s < len; s += 2.0)
                    {
                        var pose = NavPose.InMap(line[i].X + dx * s / len, line[i].Y + dy * s / len, 0, t += 1.5, heading);
                        GuideUpdate u = (poses++ % 2 == 0) ? guide.SendPoseAsync(pose).Result : guide.SendPose(pose);
                        Assert.IsFalse(u.OffRoute, "off route at t = " + t);
                        Assert.IsFalse(u.Rerouted);
                        Assert.GreaterOrEqual(u.ProgressM, lastProgress - 0.5);
                        lastProgress = u.ProgressM;
                        arrived |= u.Arrived;
                    }
                }
                MapPoint end = line[line.Length - 1];
                GuideUpdate final = guide.SendPose(NavPose.InMap(end.X, end.Y, 0, t += 1.5));
                Assert.IsTrue(arrived || final.Arrived);
                Assert.Less(final.RemainingM, 1.0);
                Assert.Greater(poses, 10);
                // A bad pose ends the session with InvalidArgument naming the field.
                var e = Assert.Throws<ArmapException>(() => guide.SendPose(new NavPose { Frame = (PoseFrame)9, TimeS = t + 1 }));
                Assert.AreEqual(StatusCode.InvalidArgument, e.Code);
                StringAssert.Contains("frame", e.Message);
                Assert.AreEqual(first.Route.LengthM, guide.CurrentRoute().LengthM, 1e-9);
                guide.CloseAsync().Wait();
                guide.Close();  // idempotent
            }
        }

        [Test]
        public void UnknownPoiThrowsNotFound()
        {
            var request = ToPoi();
            request.PoiName = "No Such Shop 12345";
            ArmapException e = Inner(Assert.Throws<AggregateException>(() => client_.RouteAsync(request).Wait()));
            Assert.AreEqual(StatusCode.NotFound, e.Code);
            StringAssert.Contains("poi_name", e.Message);
            StringAssert.Contains("closest names", e.NativeMessage);
            e = Inner(Assert.Throws<AggregateException>(() =>
                client_.OpenGuideAsync(request, NavPose.Wgs84(start_[0], start_[1], 0, 0)).Wait()));
            Assert.AreEqual(StatusCode.NotFound, e.Code);
            var tooLong = ToPoi();
            tooLong.PoiName = new string('x', 200);
            e = Assert.Throws<ArmapException>(() => client_.Route(tooLong));
            Assert.AreEqual(StatusCode.InvalidArgument, e.Code);
            StringAssert.Contains("PoiName", e.Message);
        }
    }
}
