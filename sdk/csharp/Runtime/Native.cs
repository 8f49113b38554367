// P/Invoke declarations and blittable mirrors of the C ABI's structs
// (sdk/cpp/include/armap/armap_c.h). Explicit layout with the offsets the C
// side freezes with static_asserts (armap_c.cc); sizes are checked at run
// time against the native *_init functions (NativeLayout.Check). No bool
// crosses the boundary: flags are int 0/1.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Armap.Sdk
{
    /// <summary>A rigid transform target_from_source: unit quaternion [w, x, y, z] and translation in metres
    /// (point_in_target = R(q) * point_in_source + t). Mirrors ArmapRigid3.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 56)]
    public struct Rigid3
    {
        [FieldOffset(0)] public double Qw;
        [FieldOffset(8)] public double Qx;
        [FieldOffset(16)] public double Qy;
        [FieldOffset(24)] public double Qz;
        [FieldOffset(32)] public double Tx;
        [FieldOffset(40)] public double Ty;
        [FieldOffset(48)] public double Tz;

        public Rigid3(double qw, double qx, double qy, double qz, double tx, double ty, double tz)
        {
            Qw = qw; Qx = qx; Qy = qy; Qz = qz; Tx = tx; Ty = ty; Tz = tz;
        }

        public static Rigid3 Identity { get { return new Rigid3(1, 0, 0, 0, 0, 0, 0); } }

        public override string ToString()
        {
            return string.Format("q=[{0:F6}, {1:F6}, {2:F6}, {3:F6}] t=[{4:F3}, {5:F3}, {6:F3}]", Qw, Qx, Qy, Qz, Tx, Ty, Tz);
        }
    }

    /// <summary>Camera centre in WGS84 and heading/pitch/roll in degrees. Mirrors ArmapGeoPose.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 48)]
    public struct GeoPose
    {
        [FieldOffset(0)] public double LatDeg;
        [FieldOffset(8)] public double LonDeg;
        [FieldOffset(16)] public double AltM;
        [FieldOffset(24)] public double HeadingDeg;
        [FieldOffset(32)] public double PitchDeg;
        [FieldOffset(40)] public double RollDeg;
    }

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    internal unsafe struct NativeCamera
    {
        [FieldOffset(0)] public fixed byte Model[NativeConstants.CameraModelSize];
        [FieldOffset(16)] public uint Width;
        [FieldOffset(20)] public uint Height;
        [FieldOffset(24)] public uint NumParams;
        [FieldOffset(28)] public uint Reserved0;
        [FieldOffset(32)] public fixed double Params[NativeConstants.MaxCameraParams];
    }

    [StructLayout(LayoutKind.Explicit, Size = 136)]
    internal unsafe struct NativePrior
    {
        [FieldOffset(0)] public int HasPosition;
        [FieldOffset(4)] public int HasGravity;
        [FieldOffset(8)] public double LatDeg;
        [FieldOffset(16)] public double LonDeg;
        [FieldOffset(24)] public double AltM;
        [FieldOffset(32)] public double AccuracyM;
        [FieldOffset(40)] public fixed double GravityInCam[3];
        [FieldOffset(64)] public int HasCamFromWorld;
        [FieldOffset(68)] public uint Reserved0;
        [FieldOffset(72)] public Rigid3 CamFromWorld;
        [FieldOffset(128)] public double CamFromWorldAccuracyM;
    }

    [StructLayout(LayoutKind.Explicit, Size = 24)]
    internal struct NativeClientOptions
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int MaxMessageBytes;
        [FieldOffset(8)] public long TimeoutMs;
        [FieldOffset(16)] public long ConnectTimeoutMs;
    }

    [StructLayout(LayoutKind.Explicit, Size = 400)]
    internal unsafe struct NativeLocalizeParams
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int TimeoutMs;
        [FieldOffset(8)] public fixed byte MapId[NativeConstants.MapIdSize];
        [FieldOffset(72)] public fixed byte RequestId[NativeConstants.RequestIdSize];
        [FieldOffset(136)] public NativeCamera Camera;
        [FieldOffset(264)] public NativePrior Prior;
    }

    [StructLayout(LayoutKind.Explicit, Size = 32)]
    internal unsafe struct NativeStageTiming
    {
        [FieldOffset(0)] public fixed byte Stage[NativeConstants.StageNameSize];
        [FieldOffset(24)] public double Ms;
    }

    [StructLayout(LayoutKind.Explicit, Size = 944)]
    internal unsafe struct NativeLocalizeResult
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public int Success;
        [FieldOffset(8)] public int FailureReason;
        [FieldOffset(12)] public int NumFeatures;
        [FieldOffset(16)] public int NumRetrievedViews;
        [FieldOffset(20)] public int NumMatches;
        [FieldOffset(24)] public int NumInliers;
        [FieldOffset(28)] public uint NumStages;
        [FieldOffset(32)] public Rigid3 CamFromWorld;
        [FieldOffset(88)] public GeoPose GeoPose;
        [FieldOffset(136)] public double Confidence;
        [FieldOffset(144)] public double ReprojectionRmsPx;
        [FieldOffset(152)] public double ServerMs;
        [FieldOffset(160)] public double ClientMs;
        [FieldOffset(168)] public long MapVersion;
        [FieldOffset(176)] public fixed byte MapId[NativeConstants.MapIdSize];
        [FieldOffset(240)] public fixed byte RequestId[NativeConstants.RequestIdSize];
        [FieldOffset(304)] public fixed byte FailureMessage[NativeConstants.MessageSize];
        [FieldOffset(560)] public fixed byte Stages[NativeConstants.MaxStages * 32];  // NativeStageTiming[MaxStages]
    }

    [StructLayout(LayoutKind.Explicit, Size = 240)]
    internal unsafe struct NativeMapInfo
    {
        [FieldOffset(0)] public uint StructSize;
        [FieldOffset(4)] public uint Reserved0;
        [FieldOffset(8)] public fixed byte MapId[NativeConstants.MapIdSize];
        [FieldOffset(72)] public long MapVersion;
        [FieldOffset(80)] public fixed byte CreatedUtc[32];
        [FieldOffset(112)] public double OriginLatDeg;
        [FieldOffset(120)] public double OriginLonDeg;
        [FieldOffset(128)] public double OriginAltM;
        [FieldOffset(136)] public fixed double BboxMinM[3];
        [FieldOffset(160)] public fixed double BboxMaxM[3];
        [FieldOffset(184)] public long NumViews;
        [FieldOffset(192)] public long NumLandmarks;
        [FieldOffset(200)] public fixed byte ExtractorType[16];
        [FieldOffset(216)] public int ExtractorMaxFeatures;
        [FieldOffset(220)] public int ExtractorOctaveLayers;
        [FieldOffset(224)] public double ExtractorContrastThreshold;
        [FieldOffset(232)] public double ExtractorEdgeThreshold;
    }

    /// <summary>Pose fusion options (armap/sdk/pose_fusion.h documents each field). Create with
    /// <see cref="CreateDefault"/>; a zero field means its default. Mirrors ArmapFusionOptions.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 168)]
    public struct PoseFusionOptions
    {
        [FieldOffset(0)] internal uint StructSize;
        [FieldOffset(4)] public SessionUpAxis SessionUpAxis;
        [FieldOffset(8)] public double FixPositionSigmaM;
        [FieldOffset(16)] public double FixYawSigmaDeg;
        [FieldOffset(24)] public double MinConfidence;
        [FieldOffset(32)] public double DriftFraction;
        [FieldOffset(40)] public double DriftNonlinearity;
        [FieldOffset(48)] public double DriftMPerS;
        [FieldOffset(56)] public double YawDriftDegPerM;
        [FieldOffset(64)] public double YawDriftDegPerS;
        [FieldOffset(72)] public int WindowSize;
        [FieldOffset(76)] internal uint Reserved0;
        [FieldOffset(80)] public double WindowS;
        [FieldOffset(88)] public double GateSigma;
        [FieldOffset(96)] public double GateFloorM;
        [FieldOffset(104)] public double GateFloorDeg;
        [FieldOffset(112)] public double HuberK;
        [FieldOffset(120)] public double MaxDriftExtrapolationM;
        [FieldOffset(128)] public double BlendTimeS;
        [FieldOffset(136)] public double MaxCorrectionSpeedMps;
        [FieldOffset(144)] public double MaxCorrectionYawRateDps;
        [FieldOffset(152)] public double TrackingHistoryS;
        [FieldOffset(160)] public double MaxExtrapolationS;

        /// <summary>The library's defaults (armap_fusion_options_init).</summary>
        public static PoseFusionOptions CreateDefault()
        {
            var o = new PoseFusionOptions();
            Native.Check(Native.armap_fusion_options_init(ref o));
            return o;
        }
    }

    /// <summary>Counters and uncertainty of a <see cref="PoseFusion"/>. Mirrors ArmapFusionStats.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 96)]
    public struct PoseFusionStats
    {
        [FieldOffset(0)] internal uint StructSize;
        [FieldOffset(4)] internal int InitializedFlag;
        [FieldOffset(8)] public long NumTracking;
        [FieldOffset(16)] public long NumFixes;
        [FieldOffset(24)] public long NumAccepted;
        [FieldOffset(32)] public long NumRejected;
        [FieldOffset(40)] public long NumResets;
        [FieldOffset(48)] public int WindowInliers;
        [FieldOffset(52)] internal uint Reserved0;
        [FieldOffset(56)] public double PendingCorrectionM;
        [FieldOffset(64)] public double PendingCorrectionDeg;
        [FieldOffset(72)] public double PositionSigmaM;
        [FieldOffset(80)] public double YawSigmaDeg;
        [FieldOffset(88)] public double DriftRate;

        public bool Initialized { get { return InitializedFlag != 0; } }
    }

    internal static unsafe class Native
    {
        // Resolves to libarmap_sdk_c.so (Linux, Android), armap_sdk_c.dll (Windows),
        // libarmap_sdk_c.dylib / .bundle (macOS); see Plugins/README.md.
        internal const string Lib = "armap_sdk_c";

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr armap_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr armap_last_error();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern IntPtr armap_status_name(int code);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_options_init(ref NativeClientOptions options);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_localize_params_init(ref NativeLocalizeParams p);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_localize_result_init(ref NativeLocalizeResult r);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_map_info_init(ref NativeMapInfo info);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_options_init(ref PoseFusionOptions options);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_stats_init(ref PoseFusionStats stats);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_connect(byte[] target, ref NativeClientOptions options, out ClientHandle client);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void armap_client_free(IntPtr client);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_wait_for_ready(ClientHandle client, long timeoutMs);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_localize_image(ClientHandle client, ref NativeLocalizeParams p, byte* image, UIntPtr len, ref NativeLocalizeResult result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_localize_features(ClientHandle client, ref NativeLocalizeParams p, float* keypoints, byte* descriptors, uint n, uint dim, ref NativeLocalizeResult result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_list_maps(ClientHandle client, NativeMapInfo* maps, uint capacity, out uint count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_get_map_info(ClientHandle client, byte[] mapId, ref NativeMapInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_client_open_stream(ClientHandle client, out StreamHandle stream);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_stream_localize_image(StreamHandle stream, ref NativeLocalizeParams p, byte* image, UIntPtr len, ref NativeLocalizeResult result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_stream_localize_features(StreamHandle stream, ref NativeLocalizeParams p, float* keypoints, byte* descriptors, uint n, uint dim, ref NativeLocalizeResult result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_stream_close(StreamHandle stream);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void armap_stream_free(IntPtr stream);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_create(ref PoseFusionOptions options, out FusionHandle fusion);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern void armap_fusion_free(IntPtr fusion);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_add_tracking(FusionHandle fusion, double timestampS, ref Rigid3 sessionFromCam);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_add_fix(FusionHandle fusion, double timestampS, ref Rigid3 mapFromCam, double confidence, out int outcome);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_add_fix_sigma(FusionHandle fusion, double timestampS, ref Rigid3 mapFromCam, double positionSigmaM, double yawSigmaDeg, out int outcome);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_map_from_session(FusionHandle fusion, out Rigid3 result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_map_from_cam(FusionHandle fusion, double timestampS, out Rigid3 result);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_get_stats(FusionHandle fusion, ref PoseFusionStats stats);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)] internal static extern int armap_fusion_reset(FusionHandle fusion);

        /// <summary>Throws ArmapException for a non-zero code, with this thread's last error. Call it on the
        /// thread that made the native call, right after it.</summary>
        internal static void Check(int code)
        {
            if (code != 0) throw new ArmapException((StatusCode)code, PtrToUtf8(armap_last_error()));
        }

        internal static string PtrToUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            byte* b = (byte*)p;
            int n = 0;
            while (b[n] != 0) ++n;
            return Encoding.UTF8.GetString(b, n);
        }

        /// <summary>A NUL-terminated UTF-8 copy of s for a const char* parameter.</summary>
        internal static byte[] Utf8z(string s)
        {
            if (s == null) throw new ArgumentNullException();
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        internal static string FromFixed(byte* p, int size)
        {
            int n = 0;
            while (n < size && p[n] != 0) ++n;
            return Encoding.UTF8.GetString(p, n);
        }

        /// <summary>Writes s into a fixed char array; ArmapException(InvalidArgument) if it does not fit.</summary>
        internal static void ToFixed(string s, byte* p, int size, string field)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s ?? "");
            if (bytes.Length >= size)
            {
                throw new ArmapException(StatusCode.InvalidArgument,
                    string.Format("{0} is {1} UTF-8 bytes; at most {2} fit", field, bytes.Length, size - 1));
            }
            for (int i = 0; i < size; ++i) p[i] = i < bytes.Length ? bytes[i] : (byte)0;
        }
    }
}
