// Plain request and result types of Armap.Sdk (as armap/sdk/types.h).
using System;

namespace Armap.Sdk
{
    /// <summary>"PINHOLE" (fx fy cx cy) or "OPENCV" (fx fy cx cy k1 k2 p1 p2), at the image's resolution.</summary>
    public sealed class Camera
    {
        public string Model = "PINHOLE";
        public uint Width;
        public uint Height;
        public double[] Params = new double[0];
    }

    /// <summary>What the phone knows before localizing; every part is optional.</summary>
    public sealed class Prior
    {
        public bool HasPosition;
        public double LatDeg, LonDeg, AltM;
        /// <summary>Horizontal 1-sigma of the position, metres (0 = 10 m).</summary>
        public double AccuracyM;
        /// <summary>Accelerometer "down" in the camera frame, or null.</summary>
        public double[] GravityInCam;
        /// <summary>A previous pose in the map frame, or null.</summary>
        public Rigid3? CamFromWorld;
        public double CamFromWorldAccuracyM;
    }

    /// <summary>Everything about a query except its payload.</summary>
    public sealed class LocalizeRequest
    {
        /// <summary>"" selects the server's only map.</summary>
        public string MapId = "";
        public string RequestId = "";
        /// <summary>0 uses the client's timeout.</summary>
        public int TimeoutMs;
        public Camera Camera = new Camera();
        public Prior Prior = new Prior();
    }

    public struct StageTiming
    {
        public string Stage;
        public double Ms;
    }

    /// <summary>A localization outcome. Success == false is not an error: see FailureReason.</summary>
    public sealed class LocalizeResult
    {
        public bool Success;
        public FailureReason FailureReason;
        public string FailureMessage;
        /// <summary>Map frame (ENU metres); valid when Success.</summary>
        public Rigid3 CamFromWorld;
        public GeoPose GeoPose;
        public double Confidence;
        public int NumFeatures, NumRetrievedViews, NumMatches, NumInliers;
        public double ReprojectionRmsPx;
        public StageTiming[] Stages;
        public double ServerMs, ClientMs;
        public string MapId;
        public long MapVersion;
        public string RequestId;
    }

    public sealed class MapInfo
    {
        public string MapId;
        public long MapVersion;
        public string CreatedUtc;
        public double OriginLatDeg, OriginLonDeg, OriginAltM;
        public double[] BboxMinM, BboxMaxM;
        public long NumViews, NumLandmarks;
        public string ExtractorType;
        public int ExtractorMaxFeatures, ExtractorOctaveLayers;
        public double ExtractorContrastThreshold, ExtractorEdgeThreshold;
    }

    /// <summary>Client options; zero fields keep the library's defaults.</summary>
    public sealed class ClientOptions
    {
        /// <summary>0 = 16 MiB.</summary>
        public int MaxMessageBytes;
        /// <summary>Per call; 0 = 10000.</summary>
        public long TimeoutMs;
        /// <summary>&gt; 0: Connect waits until the server is ready (else Unavailable); 0 = lazy.</summary>
        public long ConnectTimeoutMs;
    }
}
