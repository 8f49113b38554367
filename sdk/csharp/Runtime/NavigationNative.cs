// P/Invoke declarations and blittable mirrors of the C ABI's navigation part
// (armap_route*, armap_guide_* in armap_c.h). Offsets as the C side freezes
// them with static_asserts (armap_c.cc); sizes checked against the *_init
// functions by the tests. Flags are int 0/1: no bool crosses the boundary.
using System;
using System.Runtime.InteropServices;

namespace Armap.Sdk
{
    [StructLayout(LayoutKind.Explicit, Size = 328)]
    internal unsafe struct NativeRouteParams
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int TimeoutMs;
        [FieldOffset(8)] public fixed byte MapId[NativeConstants.MapIdSize];
        [FieldOffset(72)] public fixed byte RequestId[NativeConstants.RequestIdSize];
        [FieldOffset(136)] public double StartLatDeg;
        [FieldOffset(144)] public double StartLonDeg;
        [FieldOffset(152)] public int HasStartHeading;
        [FieldOffset(156)] public int HasDestination;
        [FieldOffset(160)] public double StartHeadingDeg;
        [FieldOffset(168)] public double DestinationLatDeg;
        [FieldOffset(176)] public double DestinationLonDeg;
        [FieldOffset(184)] public fixed byte PoiName[NativeConstants.PoiNameSize];
        [FieldOffset(312)] public int HasCrossingPenalty;
        [FieldOffset(316)] public int NumAlternatives;
        [FieldOffset(320)] public double CrossingPenaltyM;
    }

    [StructLayout(LayoutKind.Explicit, Size = 64)]
    internal struct NativeRouteSummary
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int Crossings;
        [FieldOffset(8)] public double LengthM;
        [FieldOffset(16)] public double EtaS;
        [FieldOffset(24)] public double Cost;
        [FieldOffset(32)] public uint NumPoints;
        [FieldOffset(36)] public uint NumArPoints;
        [FieldOffset(40)] public uint NumManeuvers;
        [FieldOffset(44)] public int RouteVersion;
        [FieldOffset(48)] public double StartSnapDistanceM;
        [FieldOffset(56)] public double DestinationSnapDistanceM;
    }

    [StructLayout(LayoutKind.Explicit, Size = 56)]
    internal struct NativeNavPose
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int Frame;
        [FieldOffset(8)] public double X;
        [FieldOffset(16)] public double Y;
        [FieldOffset(24)] public double Z;
        [FieldOffset(32)] public int HasHeading;
        [FieldOffset(36)] public uint Reserved0;
        [FieldOffset(40)] public double HeadingDeg;
        [FieldOffset(48)] public double TimeS;
    }

    [StructLayout(LayoutKind.Explicit, Size = 592)]
    internal unsafe struct NativeGuideUpdate
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int OffRoute;
        [FieldOffset(8)] public int OffRouteEntered;
        [FieldOffset(12)] public int Rerouted;
        [FieldOffset(16)] public int Arrived;
        [FieldOffset(20)] public int RouteVersion;
        [FieldOffset(24)] public int NextType;
        [FieldOffset(28)] public uint Reserved0;
        [FieldOffset(32)] public double ProgressM;
        [FieldOffset(40)] public double RemainingM;
        [FieldOffset(48)] public double DistanceToRouteM;
        [FieldOffset(56)] public double DistanceToNextM;
        [FieldOffset(64)] public double ServerMs;
        [FieldOffset(72)] public double ClientMs;
        [FieldOffset(80)] public fixed byte PromptZh[NativeConstants.PromptSize];
        [FieldOffset(208)] public fixed byte PromptEn[NativeConstants.PromptSize];
        [FieldOffset(336)] public fixed byte RerouteError[NativeConstants.MessageSize];
    }

    internal sealed class RouteHandle : SafeHandle
    {
        public RouteHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { NavNative.armap_route_free(handle); return true; }
    }

    internal sealed class GuideHandle : SafeHandle
    {
        public GuideHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { NavNative.armap_guide_free(handle); return true; }
    }

    internal static unsafe class NavNative
    {
        const string Lib = Native.Lib;

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_params_init(ref NativeRouteParams p);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_summary_init(ref NativeRouteSummary s);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_nav_pose_init(ref NativeNavPose p);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_guide_update_init(ref NativeGuideUpdate u);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route(ClientHandle client, ref NativeRouteParams p, long* avoidEdgeIds, uint numAvoid, out RouteHandle route);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void armap_route_free(IntPtr route);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_count(RouteHandle route, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_summary(RouteHandle route, uint index, ref NativeRouteSummary summary);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_polyline_wgs84(RouteHandle route, uint index, double* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_polyline_map(RouteHandle route, uint index, double* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_ar_polyline(RouteHandle route, uint index, double* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_maneuver_types(RouteHandle route, uint index, int* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_maneuver_distances(RouteHandle route, uint index, double* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_edge_ids(RouteHandle route, uint index, long* out_, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_route_maneuver_prompt(RouteHandle route, uint index, uint maneuver, int language, out IntPtr prompt);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_guide_open_avoiding(ClientHandle client, ref NativeRouteParams p, long* avoidEdgeIds, uint numAvoid, ref NativeNavPose start, ref NativeGuideUpdate first, out GuideHandle guide);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_guide_send_pose(GuideHandle guide, ref NativeNavPose pose, ref NativeGuideUpdate update);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_guide_route(GuideHandle guide, out RouteHandle route);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_guide_close(GuideHandle guide);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void armap_guide_free(IntPtr guide);
    }
}
