// NUnit 2.6 tests of Armap.Sdk against a real `armap serve` on loopback
// (started by csharp_test.cc, which sets ARMAP_TEST_SERVER=host:port and
// ARMAP_TEST_QUERY=<file of key=value lines describing one fixture query and
// its ground truth>).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Armap.Sdk.Tests
{
    internal static class Fixture
    {
        public static string Server { get { return Require("ARMAP_TEST_SERVER"); } }

        public static Dictionary<string, string> Query()
        {
            var d = new Dictionary<string, string>();
            foreach (string line in File.ReadAllLines(Require("ARMAP_TEST_QUERY")))
            {
                int eq = line.IndexOf('=');
                if (eq > 0) d[line.Substring(0, eq)] = line.Substring(eq + 1);
            }
            return d;
        }

        public static double[] Doubles(string csv)
        {
            return csv.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }

        public static LocalizeRequest Request(Dictionary<string, string> q)
        {
            double[] prior = Doubles(q["prior"]);
            var r = new LocalizeRequest();
            r.RequestId = "csharp-test";
            r.Camera.Model = q["model"];
            r.Camera.Width = uint.Parse(q["width"]);
            r.Camera.Height = uint.Parse(q["height"]);
            r.Camera.Params = Doubles(q["params"]);
            r.Prior.HasPosition = true;
            r.Prior.LatDeg = prior[0];
            r.Prior.LonDeg = prior[1];
            r.Prior.AltM = prior[2];
            r.Prior.AccuracyM = prior[3];
            r.Prior.GravityInCam = Doubles(q["gravity"]);
            return r;
        }

        // Distance between the camera centres of two cam_from_world poses.
        public static double CentreDistance(Rigid3 a, double[] gtQ, double[] gtT)
        {
            double[] ca = Centre(a.Qw, a.Qx, a.Qy, a.Qz, a.Tx, a.Ty, a.Tz);
            double[] cb = Centre(gtQ[0], gtQ[1], gtQ[2], gtQ[3], gtT[0], gtT[1], gtT[2]);
            return Math.Sqrt(Enumerable.Range(0, 3).Sum(i => (ca[i] - cb[i]) * (ca[i] - cb[i])));
        }

        // -R^T t.
        static double[] Centre(double w, double x, double y, double z, double tx, double ty, double tz)
        {
            double n = Math.Sqrt(w * w + x * x + y * y + z * z);
            w /= n; x /= n; y /= n; z /= n;
            double[,] r = {
                { 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w) },
                { 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w) },
                { 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y) } };
            double[] t = { tx, ty, tz };
            var c = new double[3];
            for (int i = 0; i < 3; ++i) c[i] = -(r[0, i] * t[0] + r[1, i] * t[1] + r[2, i] * t[2]);
            return c;
        }

        static string Require(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) Assert.Fail(name + " is not set (run through csharp_test, which starts the server)");
            return v;
        }
    }

    [TestFixture]
    public class AbiTests
    {
        [Test]
        public void VersionIsSemantic()
        {
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+$", ArmapClient.NativeVersion);
        }

        [Test]
        public void GeneratedStatusCodesMatchTheNativeNames()
        {
            // Each generated enum member, upper-snake-cased, is the name the C library gives its value.
            foreach (StatusCode code in Enum.GetValues(typeof(StatusCode)))
            {
                string snake = string.Concat(code.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + ch : ch.ToString())).ToUpperInvariant();
                Assert.AreEqual(snake, ArmapClient.StatusName(code), "value " + (int)code);
            }
            Assert.AreEqual(17, Enum.GetValues(typeof(StatusCode)).Length);
            Assert.AreEqual("UNKNOWN_CODE", ArmapClient.StatusName((StatusCode)99));
        }

        [Test]
        public void StructSizesMatchTheNativeOnes()
        {
            // The *_init functions write sizeof(the C struct) into struct_size.
            var options = PoseFusionOptions.CreateDefault();
            Assert.AreEqual(Marshal.SizeOf(typeof(PoseFusionOptions)), (int)options.StructSize);
            Assert.AreEqual(SessionUpAxis.Y, options.SessionUpAxis);
            Assert.Greater(options.BlendTimeS, 0);
            Assert.AreEqual(944, Marshal.SizeOf(typeof(NativeLocalizeResult)));
            var r = new NativeLocalizeResult();
            Native.Check(Native.armap_localize_result_init(ref r));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeLocalizeResult)), (int)r.StructSize);
            var p = new NativeLocalizeParams();
            Native.Check(Native.armap_localize_params_init(ref p));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeLocalizeParams)), (int)p.StructSize);
            Assert.AreEqual(1.0, p.Prior.CamFromWorld.Qw);  // the init's default lands at the mirrored offset
            var m = new NativeMapInfo();
            Native.Check(Native.armap_map_info_init(ref m));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeMapInfo)), (int)m.StructSize);
            var c = new NativeClientOptions();
            Native.Check(Native.armap_client_options_init(ref c));
            Assert.AreEqual(Marshal.SizeOf(typeof(NativeClientOptions)), (int)c.StructSize);
            Assert.AreEqual(10000, c.TimeoutMs);
            var s = new PoseFusionStats();
            Native.Check(Native.armap_fusion_stats_init(ref s));
            Assert.AreEqual(Marshal.SizeOf(typeof(PoseFusionStats)), (int)s.StructSize);
        }

        [Test]
        public void UnreachableServerThrowsUnavailable()
        {
            var e = Assert.Throws<ArmapException>(() =>
                ArmapClient.Connect("127.0.0.1:1", new ClientOptions { ConnectTimeoutMs = 300 }));
            Assert.AreEqual(StatusCode.Unavailable, e.Code);
            Assert.IsNotEmpty(e.NativeMessage);
        }
    }

    [TestFixture]
    public class ServerTests
    {
        ArmapClient client_;

        [TestFixtureSetUp]
        public void Connect()
        {
            client_ = ArmapClient.Connect(Fixture.Server, new ClientOptions { ConnectTimeoutMs = 20000, TimeoutMs = 60000 });
        }

        [TestFixtureTearDown]
        public void Disconnect() { client_.Dispose(); }

        [Test]
        public void ListsTheMapAndItsInfo()
        {
            MapInfo[] maps = client_.ListMapsAsync().Result;
            Assert.AreEqual(1, maps.Length);
            Assert.IsNotEmpty(maps[0].MapId);
            Assert.Greater(maps[0].NumViews, 0);
            Assert.Greater(maps[0].NumLandmarks, 0);
            MapInfo info = client_.GetMapInfoAsync(maps[0].MapId).Result;
            Assert.AreEqual(maps[0].MapId, info.MapId);
            Assert.AreEqual(maps[0].NumLandmarks, info.NumLandmarks);
            Assert.That(info.ExtractorType, Is.EqualTo("rootsift").Or.EqualTo("sift"));
        }

        [Test]
        public void UnknownMapIsNotFoundWithTheNativeMessage()
        {
            var aggregate = Assert.Throws<AggregateException>(() => client_.GetMapInfoAsync("no-such-map").Wait());
            var e = aggregate.InnerException as ArmapException;
            Assert.IsNotNull(e, aggregate.ToString());
            Assert.AreEqual(StatusCode.NotFound, e.Code);
            StringAssert.Contains("no-such-map", e.Message);
        }

        [Test]
        public void LocalizesTheFixtureQueryWithoutBlockingTheCaller()
        {
            var q = Fixture.Query();
            byte[] image = File.ReadAllBytes(q["image"]);
            var watch = Stopwatch.StartNew();
            Task<LocalizeResult> task = client_.LocalizeImageAsync(image, Fixture.Request(q));
            double returnedMs = watch.Elapsed.TotalMilliseconds;
            LocalizeResult r = task.Result;
            Assert.IsTrue(r.Success, r.FailureReason + ": " + r.FailureMessage);
            // The call returned long before the answer: the work ran on the thread pool.
            Assert.Less(returnedMs, r.ClientMs / 2, "returned after " + returnedMs + " ms; the round trip took " + r.ClientMs);
            Assert.AreEqual("csharp-test", r.RequestId);
            Assert.Greater(r.NumInliers, 20);
            Assert.Greater(r.Confidence, 0.5);
            Assert.Greater(r.Stages.Length, 0);
            double error = Fixture.CentreDistance(r.CamFromWorld, Fixture.Doubles(q["gt_q"]), Fixture.Doubles(q["gt_t"]));
            Assert.Less(error, 0.5, "camera centre off by " + error + " m");
        }

        [Test]
        public void GarbageImageIsInvalidArgument()
        {
            var q = Fixture.Query();
            var e = Assert.Throws<ArmapException>(() => client_.LocalizeImage(new byte[] { 1, 2, 3, 4, 5 }, Fixture.Request(q)));
            Assert.AreEqual(StatusCode.InvalidArgument, e.Code);
            var tooLong = Fixture.Request(q);
            tooLong.MapId = new string('m', 80);
            e = Assert.Throws<ArmapException>(() => client_.LocalizeImage(new byte[] { 1 }, tooLong));
            Assert.AreEqual(StatusCode.InvalidArgument, e.Code);
            StringAssert.Contains("MapId", e.Message);
        }

        [Test]
        public void StreamLocalizesTwiceAndCloses()
        {
            var q = Fixture.Query();
            byte[] image = File.ReadAllBytes(q["image"]);
            using (LocalizeStream stream = client_.OpenStreamAsync().Result)
            {
                for (int i = 0; i < 2; ++i)
                {
                    LocalizeResult r = stream.LocalizeImageAsync(image, Fixture.Request(q)).Result;
                    Assert.IsTrue(r.Success, "round trip " + i + ": " + r.FailureMessage);
                }
                stream.CloseAsync().Wait();
                stream.Close();  // idempotent
            }
        }

        [Test]
        public void DisposedClientThrows()
        {
            var c = ArmapClient.Connect(Fixture.Server);
            c.Dispose();
            c.Dispose();
            Assert.Throws<ObjectDisposedException>(() => c.ListMaps());
        }
    }

    [TestFixture]
    public class PoseFusionTests
    {
        // A walk along x at 1.4 m/s in a y-up session whose frame is the map's
        // turned by 30 degrees about up and shifted; fixes every 5 s, the
        // fourth one 5 m off.
        static Rigid3 YawPose(double yawRad, double x, double y, double z)
        {
            return new Rigid3(Math.Cos(yawRad / 2), 0, 0, Math.Sin(yawRad / 2), x, y, z);
        }

        [Test]
        public void FollowsTheMapAndRejectsAnOutlier()
        {
            using (var fusion = new PoseFusion())
            {
                var e = Assert.Throws<ArmapException>(() => { var unused = fusion.MapFromSession; });
                Assert.AreEqual(StatusCode.FailedPrecondition, e.Code);
                const double yaw = 30 * Math.PI / 180;
                var outcomes = new List<FixOutcome>();
                double lastError = double.NaN;
                for (int k = 0; k <= 60 * 40; ++k)
                {
                    double t = k / 60.0;
                    double walked = 1.4 * t;
                    // Session (y up): the camera at (walked, 1.5 height, 0); a z-up map frame.
                    // Session y-up -> z-up is a +90 deg turn about x; the fix is the true map pose.
                    var session = new Rigid3(1, 0, 0, 0, walked, 1.5, 0);
                    fusion.AddTracking(t, session);
                    // True map_from_cam: rotate (x, -z, y) by yaw about z and shift by (10, 20, 0).
                    double gx = walked, gy = 0, gz = 1.5;
                    double mx = Math.Cos(yaw) * gx - Math.Sin(yaw) * gy + 10, my = Math.Sin(yaw) * gx + Math.Cos(yaw) * gy + 20;
                    // Rotation: map_from_cam = Rz(yaw) * Rx(90 deg) (camera axes as the session's).
                    double c = Math.Cos(yaw / 2), s = Math.Sin(yaw / 2), h = Math.Sqrt(0.5);
                    var truth = new Rigid3(c * h, c * h, s * h, s * h, mx, my, gz);
                    if (k % 300 == 60)
                    {
                        Rigid3 fix = truth;
                        if (outcomes.Count == 3) fix.Ty += 5;
                        outcomes.Add(fusion.AddFix(t, fix, 0.9));
                    }
                    Rigid3 estimate;
                    if (fusion.TryGetMapFromCam(t, out estimate))
                    {
                        lastError = Math.Sqrt(Math.Pow(estimate.Tx - truth.Tx, 2) + Math.Pow(estimate.Ty - truth.Ty, 2) +
                                              Math.Pow(estimate.Tz - truth.Tz, 2));
                    }
                }
                Assert.AreEqual(FixOutcome.Initialized, outcomes[0]);
                Assert.AreEqual(FixOutcome.Accepted, outcomes[1]);
                Assert.AreEqual(FixOutcome.Rejected, outcomes[3]);
                Assert.AreEqual(FixOutcome.Accepted, outcomes[4]);
                Assert.Less(lastError, 0.01);
                PoseFusionStats stats = fusion.Stats;
                Assert.IsTrue(stats.Initialized);
                Assert.AreEqual(1, stats.NumRejected);
                Assert.AreEqual(outcomes.Count, stats.NumFixes);
                Assert.AreEqual(60 * 40 + 1, stats.NumTracking);
                fusion.Reset();
                Assert.IsFalse(fusion.Stats.Initialized);
            }
        }

        [Test]
        public void BadInputThrowsWithTheCodeAndMessage()
        {
            var options = PoseFusionOptions.CreateDefault();
            options.WindowSize = -1;
            var e = Assert.Throws<ArmapException>(() => new PoseFusion(options));
            Assert.AreEqual(StatusCode.InvalidArgument, e.Code);
            StringAssert.Contains("window_size", e.Message);
            var fusion = new PoseFusion();
            fusion.AddTracking(1, Rigid3.Identity);
            e = Assert.Throws<ArmapException>(() => fusion.AddTracking(0.5, Rigid3.Identity));
            StringAssert.Contains("before", e.Message);
            e = Assert.Throws<ArmapException>(() => fusion.AddFix(10, Rigid3.Identity, 1));
            Assert.AreEqual(StatusCode.FailedPrecondition, e.Code);
            fusion.Dispose();
            Assert.Throws<ObjectDisposedException>(() => fusion.AddTracking(2, Rigid3.Identity));
        }
    }
}
