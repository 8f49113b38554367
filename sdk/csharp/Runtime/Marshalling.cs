// Conversions between the public types and the native structs.
using System;

namespace Armap.Sdk
{
    internal static unsafe class Marshalling
    {
        internal delegate int NativeLocalize(ref NativeLocalizeParams p, ref NativeLocalizeResult r);

        internal static LocalizeResult Localize(LocalizeRequest request, NativeLocalize call)
        {
            if (request == null) throw new ArgumentNullException("request");
            var p = new NativeLocalizeParams();
            Native.Check(Native.armap_localize_params_init(ref p));
            FillParams(request, ref p);
            var r = new NativeLocalizeResult();
            Native.Check(Native.armap_localize_result_init(ref r));
            Native.Check(call(ref p, ref r));
            return ToResult(ref r);
        }

        internal static int CallImage(ClientHandle client, StreamHandle stream, ref NativeLocalizeParams p, byte[] image,
                                      ref NativeLocalizeResult r)
        {
            fixed (byte* data = image)
            {
                return client != null
                    ? Native.armap_client_localize_image(client, ref p, data, (UIntPtr)image.Length, ref r)
                    : Native.armap_stream_localize_image(stream, ref p, data, (UIntPtr)image.Length, ref r);
            }
        }

        internal static int CallFeatures(ClientHandle client, StreamHandle stream, ref NativeLocalizeParams p,
                                         float[] keypoints, byte[] descriptors, int dim, ref NativeLocalizeResult r)
        {
            uint n = (uint)(keypoints.Length / 4);
            fixed (float* k = keypoints)
            fixed (byte* d = descriptors)
            {
                return client != null
                    ? Native.armap_client_localize_features(client, ref p, k, d, n, (uint)dim, ref r)
                    : Native.armap_stream_localize_features(stream, ref p, k, d, n, (uint)dim, ref r);
            }
        }

        internal static void CheckFeatures(float[] keypoints, byte[] descriptors, int dim)
        {
            if (keypoints == null) throw new ArgumentNullException("keypoints");
            if (descriptors == null) throw new ArgumentNullException("descriptors");
            if (dim <= 0 || keypoints.Length % 4 != 0 || descriptors.Length != keypoints.Length / 4 * dim)
            {
                throw new ArmapException(StatusCode.InvalidArgument, string.Format(
                    "features: {0} keypoint floats (n x 4) and {1} descriptor bytes (n x dim {2}) do not agree",
                    keypoints.Length, descriptors.Length, dim));
            }
        }

        static void FillParams(LocalizeRequest q, ref NativeLocalizeParams p)
        {
            if (q.TimeoutMs < 0) throw new ArmapException(StatusCode.InvalidArgument, "TimeoutMs must be >= 0");
            p.TimeoutMs = q.TimeoutMs;
            fixed (byte* mapId = p.MapId) Native.ToFixed(q.MapId, mapId, NativeConstants.MapIdSize, "MapId");
            fixed (byte* requestId = p.RequestId)
                Native.ToFixed(q.RequestId, requestId, NativeConstants.RequestIdSize, "RequestId");
            Camera c = q.Camera ?? new Camera();
            fixed (byte* model = p.Camera.Model) Native.ToFixed(c.Model, model, NativeConstants.CameraModelSize, "Camera.Model");
            p.Camera.Width = c.Width;
            p.Camera.Height = c.Height;
            double[] parameters = c.Params ?? new double[0];
            if (parameters.Length > NativeConstants.MaxCameraParams)
            {
                throw new ArmapException(StatusCode.InvalidArgument, string.Format(
                    "Camera.Params has {0} values; at most {1}", parameters.Length, NativeConstants.MaxCameraParams));
            }
            p.Camera.NumParams = (uint)parameters.Length;
            fixed (double* dst = p.Camera.Params)
                for (int i = 0; i < parameters.Length; ++i) dst[i] = parameters[i];
            Prior prior = q.Prior ?? new Prior();
            p.Prior.HasPosition = prior.HasPosition ? 1 : 0;
            p.Prior.LatDeg = prior.LatDeg;
            p.Prior.LonDeg = prior.LonDeg;
            p.Prior.AltM = prior.AltM;
            p.Prior.AccuracyM = prior.AccuracyM;
            if (prior.GravityInCam != null)
            {
                if (prior.GravityInCam.Length != 3)
                    throw new ArmapException(StatusCode.InvalidArgument, "Prior.GravityInCam must have 3 values");
                p.Prior.HasGravity = 1;
                fixed (double* g = p.Prior.GravityInCam)
                    for (int i = 0; i < 3; ++i) g[i] = prior.GravityInCam[i];
            }
            if (prior.CamFromWorld.HasValue)
            {
                p.Prior.HasCamFromWorld = 1;
                p.Prior.CamFromWorld = prior.CamFromWorld.Value;
            }
            p.Prior.CamFromWorldAccuracyM = prior.CamFromWorldAccuracyM;
        }

        static LocalizeResult ToResult(ref NativeLocalizeResult r)
        {
            var out_ = new LocalizeResult();
            out_.Success = r.Success != 0;
            out_.FailureReason = (FailureReason)r.FailureReason;
            out_.CamFromWorld = r.CamFromWorld;
            out_.GeoPose = r.GeoPose;
            out_.Confidence = r.Confidence;
            out_.NumFeatures = r.NumFeatures;
            out_.NumRetrievedViews = r.NumRetrievedViews;
            out_.NumMatches = r.NumMatches;
            out_.NumInliers = r.NumInliers;
            out_.ReprojectionRmsPx = r.ReprojectionRmsPx;
            out_.ServerMs = r.ServerMs;
            out_.ClientMs = r.ClientMs;
            out_.MapVersion = r.MapVersion;
            fixed (byte* s = r.MapId) out_.MapId = Native.FromFixed(s, NativeConstants.MapIdSize);
            fixed (byte* s = r.RequestId) out_.RequestId = Native.FromFixed(s, NativeConstants.RequestIdSize);
            fixed (byte* s = r.FailureMessage) out_.FailureMessage = Native.FromFixed(s, NativeConstants.MessageSize);
            int n = (int)Math.Min(r.NumStages, (uint)NativeConstants.MaxStages);
            out_.Stages = new StageTiming[n];
            fixed (byte* stages = r.Stages)
            {
                var timings = (NativeStageTiming*)stages;
                for (int i = 0; i < n; ++i)
                {
                    out_.Stages[i].Stage = Native.FromFixed(timings[i].Stage, NativeConstants.StageNameSize);
                    out_.Stages[i].Ms = timings[i].Ms;
                }
            }
            return out_;
        }

        internal static MapInfo ToMapInfo(ref NativeMapInfo m)
        {
            var out_ = new MapInfo();
            fixed (byte* s = m.MapId) out_.MapId = Native.FromFixed(s, NativeConstants.MapIdSize);
            out_.MapVersion = m.MapVersion;
            fixed (byte* s = m.CreatedUtc) out_.CreatedUtc = Native.FromFixed(s, 32);
            out_.OriginLatDeg = m.OriginLatDeg;
            out_.OriginLonDeg = m.OriginLonDeg;
            out_.OriginAltM = m.OriginAltM;
            out_.BboxMinM = new double[3];
            out_.BboxMaxM = new double[3];
            fixed (double* lo = m.BboxMinM)
            fixed (double* hi = m.BboxMaxM)
            {
                for (int i = 0; i < 3; ++i)
                {
                    out_.BboxMinM[i] = lo[i];
                    out_.BboxMaxM[i] = hi[i];
                }
            }
            out_.NumViews = m.NumViews;
            out_.NumLandmarks = m.NumLandmarks;
            fixed (byte* s = m.ExtractorType) out_.ExtractorType = Native.FromFixed(s, 16);
            out_.ExtractorMaxFeatures = m.ExtractorMaxFeatures;
            out_.ExtractorOctaveLayers = m.ExtractorOctaveLayers;
            out_.ExtractorContrastThreshold = m.ExtractorContrastThreshold;
            out_.ExtractorEdgeThreshold = m.ExtractorEdgeThreshold;
            return out_;
        }
    }
}
