// Navigation over the C ABI: routes to a POI or a point (Navigation.Route)
// and guidance sessions (Navigation.Guide: poses in, progress, prompts and
// re-routes out). As for localization, every *Async method runs the blocking
// native call on the thread pool, so the caller's thread never waits on the
// network; failures throw ArmapException with the native code and message.
using System;
using System.Threading.Tasks;

namespace Armap.Sdk
{
    /// <summary>A WGS84 point (degrees, ellipsoidal metres).</summary>
    public struct GeoPoint
    {
        public double LatDeg, LonDeg, AltM;
        public GeoPoint(double latDeg, double lonDeg, double altM = 0) { LatDeg = latDeg; LonDeg = lonDeg; AltM = altM; }
    }

    /// <summary>A point in the map frame (ENU metres about the map's origin).</summary>
    public struct MapPoint
    {
        public double X, Y, Z;
        public MapPoint(double x, double y, double z) { X = x; Y = y; Z = z; }
    }

    /// <summary>A route or guidance request. The destination is Destination when it is set, else the POI
    /// named PoiName (its name or English name). OpenGuide ignores StartLatDeg/StartLonDeg/StartHeadingDeg
    /// and NumAlternatives (the start is its first pose).</summary>
    public sealed class RouteRequest
    {
        /// <summary>"" selects the server's only map.</summary>
        public string MapId = "";
        public string RequestId = "";
        /// <summary>0 uses the client's timeout.</summary>
        public int TimeoutMs;
        public double StartLatDeg, StartLonDeg;
        /// <summary>Compass degrees clockwise from north; prefers the edge walked along.</summary>
        public double? StartHeadingDeg;
        public GeoPoint? Destination;
        public string PoiName = "";
        /// <summary>Metres-equivalent per street crossing; null = the server's default (10).</summary>
        public double? CrossingPenaltyM;
        /// <summary>Extra routes besides the best, 0..5.</summary>
        public int NumAlternatives;
        /// <summary>Network edge ids never used (except the start's and destination's edges); may be null.</summary>
        public long[] AvoidEdgeIds;
    }

    public sealed class Maneuver
    {
        public ManeuverType Type;
        /// <summary>Arc length along the route where it happens, metres.</summary>
        public double AtM;
        /// <summary>The distance its prompt speaks of, metres.</summary>
        public double DistanceM;
        public string PromptZh, PromptEn;
    }

    /// <summary>One planned route. Distances are planar metres along the network.</summary>
    public sealed class NavRoute
    {
        public double LengthM, EtaS, Cost;
        public int Crossings;
        /// <summary>0, +1 per guidance re-route.</summary>
        public int RouteVersion;
        public double StartSnapDistanceM, DestinationSnapDistanceM;
        public GeoPoint[] PolylineWgs84;
        /// <summary>The same points as PolylineWgs84, in the map frame.</summary>
        public MapPoint[] PolylineMap;
        /// <summary>For drawing in AR: corners rounded, a point every metre, at ground height (map frame).</summary>
        public MapPoint[] ArPolyline;
        /// <summary>Depart first, Arrive last.</summary>
        public Maneuver[] Maneuvers;
        /// <summary>The network edges travelled, in order (what AvoidEdgeIds names).</summary>
        public long[] EdgeIds;
    }

    /// <summary>A walker's pose for guidance: map frame (ENU metres) or WGS84.</summary>
    public struct NavPose
    {
        public PoseFrame Frame;
        /// <summary>Map: x, y, z metres. Wgs84: lat_deg, lon_deg, alt_m.</summary>
        public double X, Y, Z;
        /// <summary>Compass degrees clockwise from north, or null.</summary>
        public double? HeadingDeg;
        /// <summary>Seconds on any clock; never backwards within a session.</summary>
        public double TimeS;

        public static NavPose InMap(double x, double y, double z, double timeS, double? headingDeg = null)
        {
            return new NavPose { Frame = PoseFrame.Map, X = x, Y = y, Z = z, TimeS = timeS, HeadingDeg = headingDeg };
        }

        public static NavPose Wgs84(double latDeg, double lonDeg, double altM, double timeS, double? headingDeg = null)
        {
            return new NavPose { Frame = PoseFrame.Wgs84, X = latDeg, Y = lonDeg, Z = altM, TimeS = timeS, HeadingDeg = headingDeg };
        }
    }

    /// <summary>The answer to one guidance pose.</summary>
    public sealed class GuideUpdate
    {
        public bool OffRoute, OffRouteEntered, Rerouted, Arrived;
        public int RouteVersion;
        public ManeuverType NextType;
        public double ProgressM, RemainingM, DistanceToRouteM, DistanceToNextM;
        public double ServerMs, ClientMs;
        public string PromptZh, PromptEn;
        /// <summary>Why a re-plan failed ("" = none).</summary>
        public string RerouteError;
        /// <summary>The session's route when this update started it or re-routed (else null).</summary>
        public NavRoute Route;
    }

    public sealed partial class ArmapClient
    {
        /// <summary>Plans routes (Navigation.Route): the best first, then alternatives. Blocks; prefer RouteAsync.
        /// ArmapException NotFound for an unknown map or POI (the message lists close names), InvalidArgument
        /// naming the field (also for a start or destination far from the network).</summary>
        public unsafe NavRoute[] Route(RouteRequest request)
        {
            ThrowIfDisposed();
            NativeRouteParams p = NavMarshalling.Params(request);
            long[] avoid = request.AvoidEdgeIds ?? new long[0];
            RouteHandle route;
            int rc;
            fixed (long* a = avoid)
            {
                rc = NavNative.armap_route(handle_, ref p, avoid.Length > 0 ? a : null, (uint)avoid.Length, out route);
            }
            using (route)
            {
                Native.Check(rc);
                return NavMarshalling.Routes(route);
            }
        }

        public Task<NavRoute[]> RouteAsync(RouteRequest request)
        {
            ThrowIfDisposed();
            if (request == null) throw new ArgumentNullException("request");
            return Task.Run(() => Route(request));
        }

        /// <summary>Opens a guidance session (Navigation.Guide) to the request's destination from `start`; its
        /// First update carries the route. The same errors as Route. Blocks; prefer OpenGuideAsync.</summary>
        public unsafe GuideSession OpenGuide(RouteRequest request, NavPose start)
        {
            ThrowIfDisposed();
            NativeRouteParams p = NavMarshalling.Params(request);
            NativeNavPose pose = NavMarshalling.Pose(start);
            var first = new NativeGuideUpdate();
            Native.Check(NavNative.armap_guide_update_init(ref first));
            long[] avoid = request.AvoidEdgeIds ?? new long[0];
            GuideHandle guide;
            int rc;
            fixed (long* a = avoid)
            {
                rc = NavNative.armap_guide_open_avoiding(handle_, ref p, avoid.Length > 0 ? a : null, (uint)avoid.Length,
                                                         ref pose, ref first, out guide);
            }
            if (rc != 0)
            {
                guide.Dispose();
                Native.Check(rc);
            }
            var session = new GuideSession(guide);
            try
            {
                session.First = NavMarshalling.Update(ref first);
                session.First.Route = session.CurrentRoute();
            }
            catch
            {
                session.Dispose();
                throw;
            }
            return session;
        }

        public Task<GuideSession> OpenGuideAsync(RouteRequest request, NavPose start)
        {
            ThrowIfDisposed();
            if (request == null) throw new ArgumentNullException("request");
            return Task.Run(() => OpenGuide(request, start));
        }
    }

    /// <summary>A guidance session. Calls are serialised (the native session is used by one thread at a time);
    /// it may outlive its client.</summary>
    public sealed class GuideSession : IDisposable
    {
        private readonly GuideHandle handle_;
        private readonly object lock_ = new object();

        internal GuideSession(GuideHandle handle) { handle_ = handle; }

        /// <summary>The answer to the start pose, with the first route.</summary>
        public GuideUpdate First { get; internal set; }

        /// <summary>One pose, one update (with Route set when it re-routed). Blocks; prefer SendPoseAsync.</summary>
        public GuideUpdate SendPose(NavPose pose)
        {
            NativeNavPose p = NavMarshalling.Pose(pose);
            lock (lock_)
            {
                ThrowIfDisposed();
                var u = new NativeGuideUpdate();
                Native.Check(NavNative.armap_guide_update_init(ref u));
                Native.Check(NavNative.armap_guide_send_pose(handle_, ref p, ref u));
                GuideUpdate update = NavMarshalling.Update(ref u);
                if (update.Rerouted) update.Route = CurrentRouteLocked();
                return update;
            }
        }

        public Task<GuideUpdate> SendPoseAsync(NavPose pose)
        {
            ThrowIfDisposed();
            return Task.Run(() => SendPose(pose));
        }

        /// <summary>The session's current route (after a re-route: the new one).</summary>
        public NavRoute CurrentRoute()
        {
            lock (lock_)
            {
                ThrowIfDisposed();
                return CurrentRouteLocked();
            }
        }

        /// <summary>Ends the session; throws if it ended with an error. Idempotent.</summary>
        public void Close()
        {
            lock (lock_)
            {
                ThrowIfDisposed();
                Native.Check(NavNative.armap_guide_close(handle_));
            }
        }

        public Task CloseAsync() { return Task.Run(() => Close()); }

        public void Dispose() { lock (lock_) handle_.Dispose(); }

        private NavRoute CurrentRouteLocked()
        {
            RouteHandle route;
            int rc = NavNative.armap_guide_route(handle_, out route);
            using (route)
            {
                Native.Check(rc);
                return NavMarshalling.Routes(route)[0];
            }
        }

        private void ThrowIfDisposed()
        {
            if (handle_.IsClosed) throw new ObjectDisposedException("GuideSession");
        }
    }

    internal static unsafe class NavMarshalling
    {
        internal static NativeRouteParams Params(RouteRequest q)
        {
            if (q == null) throw new ArgumentNullException("request");
            if (q.TimeoutMs < 0) throw new ArmapException(StatusCode.InvalidArgument, "TimeoutMs must be >= 0");
            var p = new NativeRouteParams();
            Native.Check(NavNative.armap_route_params_init(ref p));
            p.TimeoutMs = q.TimeoutMs;
            Native.ToFixed(q.MapId, p.MapId, NativeConstants.MapIdSize, "MapId");
            Native.ToFixed(q.RequestId, p.RequestId, NativeConstants.RequestIdSize, "RequestId");
            p.StartLatDeg = q.StartLatDeg;
            p.StartLonDeg = q.StartLonDeg;
            p.HasStartHeading = q.StartHeadingDeg.HasValue ? 1 : 0;
            p.StartHeadingDeg = q.StartHeadingDeg.GetValueOrDefault();
            p.HasDestination = q.Destination.HasValue ? 1 : 0;
            if (q.Destination.HasValue)
            {
                p.DestinationLatDeg = q.Destination.Value.LatDeg;
                p.DestinationLonDeg = q.Destination.Value.LonDeg;
            }
            Native.ToFixed(q.PoiName, p.PoiName, NativeConstants.PoiNameSize, "PoiName");
            p.HasCrossingPenalty = q.CrossingPenaltyM.HasValue ? 1 : 0;
            p.CrossingPenaltyM = q.CrossingPenaltyM.GetValueOrDefault();
            p.NumAlternatives = q.NumAlternatives;
            return p;
        }

        internal static NativeNavPose Pose(NavPose pose)
        {
            var p = new NativeNavPose();
            Native.Check(NavNative.armap_nav_pose_init(ref p));
            p.Frame = (int)pose.Frame;
            p.X = pose.X;
            p.Y = pose.Y;
            p.Z = pose.Z;
            p.HasHeading = pose.HeadingDeg.HasValue ? 1 : 0;
            p.HeadingDeg = pose.HeadingDeg.GetValueOrDefault();
            p.TimeS = pose.TimeS;
            return p;
        }

        internal static GuideUpdate Update(ref NativeGuideUpdate u)
        {
            var out_ = new GuideUpdate();
            out_.OffRoute = u.OffRoute != 0;
            out_.OffRouteEntered = u.OffRouteEntered != 0;
            out_.Rerouted = u.Rerouted != 0;
            out_.Arrived = u.Arrived != 0;
            out_.RouteVersion = u.RouteVersion;
            out_.NextType = (ManeuverType)u.NextType;
            out_.ProgressM = u.ProgressM;
            out_.RemainingM = u.RemainingM;
            out_.DistanceToRouteM = u.DistanceToRouteM;
            out_.DistanceToNextM = u.DistanceToNextM;
            out_.ServerMs = u.ServerMs;
            out_.ClientMs = u.ClientMs;
            fixed (byte* s = u.PromptZh) out_.PromptZh = Native.FromFixed(s, NativeConstants.PromptSize);
            fixed (byte* s = u.PromptEn) out_.PromptEn = Native.FromFixed(s, NativeConstants.PromptSize);
            fixed (byte* s = u.RerouteError) out_.RerouteError = Native.FromFixed(s, NativeConstants.MessageSize);
            return out_;
        }

        internal delegate int DoubleArrayCall(double* out_, uint capacity, out uint count);
        internal delegate int LongArrayCall(long* out_, uint capacity, out uint count);
        internal delegate int IntArrayCall(int* out_, uint capacity, out uint count);

        // The accessors' protocol: ask the count (capacity 0), then fill an array that size.
        static double[] ReadDoubles(DoubleArrayCall call, int stride)
        {
            uint count;
            Native.Check(call(null, 0, out count));
            var values = new double[Math.Max(1, count * stride)];
            fixed (double* p = values) Native.Check(call(p, count, out count));
            if (values.Length != count * stride) Array.Resize(ref values, (int)(count * stride));
            return values;
        }

        static long[] ReadLongs(LongArrayCall call)
        {
            uint count;
            Native.Check(call(null, 0, out count));
            var values = new long[Math.Max(1, count)];
            fixed (long* p = values) Native.Check(call(p, count, out count));
            if (values.Length != count) Array.Resize(ref values, (int)count);
            return values;
        }

        static int[] ReadInts(IntArrayCall call)
        {
            uint count;
            Native.Check(call(null, 0, out count));
            var values = new int[Math.Max(1, count)];
            fixed (int* p = values) Native.Check(call(p, count, out count));
            if (values.Length != count) Array.Resize(ref values, (int)count);
            return values;
        }

        internal static NavRoute[] Routes(RouteHandle route)
        {
            uint count;
            Native.Check(NavNative.armap_route_count(route, out count));
            var routes = new NavRoute[count];
            for (uint i = 0; i < count; ++i) routes[i] = RouteAt(route, i);
            return routes;
        }

        static NavRoute RouteAt(RouteHandle h, uint i)
        {
            var s = new NativeRouteSummary();
            Native.Check(NavNative.armap_route_summary_init(ref s));
            Native.Check(NavNative.armap_route_summary(h, i, ref s));
            var r = new NavRoute();
            r.LengthM = s.LengthM;
            r.EtaS = s.EtaS;
            r.Cost = s.Cost;
            r.Crossings = s.Crossings;
            r.RouteVersion = s.RouteVersion;
            r.StartSnapDistanceM = s.StartSnapDistanceM;
            r.DestinationSnapDistanceM = s.DestinationSnapDistanceM;
            double[] wgs84 = ReadDoubles((double* o, uint c, out uint n) => NavNative.armap_route_polyline_wgs84(h, i, o, c, out n), 3);
            r.PolylineWgs84 = new GeoPoint[wgs84.Length / 3];
            for (int k = 0; k < r.PolylineWgs84.Length; ++k) r.PolylineWgs84[k] = new GeoPoint(wgs84[3 * k], wgs84[3 * k + 1], wgs84[3 * k + 2]);
            r.PolylineMap = Points(ReadDoubles((double* o, uint c, out uint n) => NavNative.armap_route_polyline_map(h, i, o, c, out n), 3));
            r.ArPolyline = Points(ReadDoubles((double* o, uint c, out uint n) => NavNative.armap_route_ar_polyline(h, i, o, c, out n), 3));
            r.EdgeIds = ReadLongs((long* o, uint c, out uint n) => NavNative.armap_route_edge_ids(h, i, o, c, out n));
            int[] types = ReadInts((int* o, uint c, out uint n) => NavNative.armap_route_maneuver_types(h, i, o, c, out n));
            double[] distances = ReadDoubles((double* o, uint c, out uint n) => NavNative.armap_route_maneuver_distances(h, i, o, c, out n), 2);
            r.Maneuvers = new Maneuver[types.Length];
            for (int k = 0; k < types.Length; ++k)
            {
                var m = new Maneuver { Type = (ManeuverType)types[k], AtM = distances[2 * k], DistanceM = distances[2 * k + 1] };
                IntPtr zh, en;
                Native.Check(NavNative.armap_route_maneuver_prompt(h, i, (uint)k, (int)PromptLanguage.Zh, out zh));
                m.PromptZh = Native.PtrToUtf8(zh);
                Native.Check(NavNative.armap_route_maneuver_prompt(h, i, (uint)k, (int)PromptLanguage.En, out en));
                m.PromptEn = Native.PtrToUtf8(en);
                r.Maneuvers[k] = m;
            }
            return r;
        }

        static MapPoint[] Points(double[] xyz)
        {
            var points = new MapPoint[xyz.Length / 3];
            for (int k = 0; k < points.Length; ++k) points[k] = new MapPoint(xyz[3 * k], xyz[3 * k + 1], xyz[3 * k + 2]);
            return points;
        }
    }
}
