// Pose fusion over the C ABI (armap/sdk/pose_fusion.h): feed the AR tracking
// every frame and the positioning fixes when they arrive; render with
// MapFromCam. Thread-safe (tracking from the main thread, fixes from a Task
// continuation). Cheap synchronous calls: no Task needed.
using System;

namespace Armap.Sdk
{
    public sealed class PoseFusion : IDisposable
    {
        private readonly FusionHandle handle_;

        public PoseFusion() : this(PoseFusionOptions.CreateDefault()) { }

        public PoseFusion(PoseFusionOptions options)
        {
            if (options.StructSize == 0) options.StructSize = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(PoseFusionOptions));
            FusionHandle handle;
            int rc = Native.armap_fusion_create(ref options, out handle);
            if (rc != 0)
            {
                handle.Dispose();
                Native.Check(rc);
            }
            handle_ = handle;
        }

        /// <summary>A tracking pose (session_from_cam) at timestampS; timestamps must not decrease.</summary>
        public void AddTracking(double timestampS, Rigid3 sessionFromCam)
        {
            Native.Check(Native.armap_fusion_add_tracking(handle_, timestampS, ref sessionFromCam));
        }

        /// <summary>A positioning fix (map_from_cam, e.g. the inverse of LocalizeResult.CamFromWorld) taken at
        /// timestampS (the image's capture time) with the server's confidence.</summary>
        public FixOutcome AddFix(double timestampS, Rigid3 mapFromCam, double confidence)
        {
            int outcome;
            Native.Check(Native.armap_fusion_add_fix(handle_, timestampS, ref mapFromCam, confidence, out outcome));
            return (FixOutcome)outcome;
        }

        public FixOutcome AddFix(double timestampS, Rigid3 mapFromCam, double positionSigmaM, double yawSigmaDeg)
        {
            int outcome;
            Native.Check(Native.armap_fusion_add_fix_sigma(handle_, timestampS, ref mapFromCam, positionSigmaM,
                                                           yawSigmaDeg, out outcome));
            return (FixOutcome)outcome;
        }

        /// <summary>The smoothed map_from_session; ArmapException(FailedPrecondition) before the first fix.</summary>
        public Rigid3 MapFromSession
        {
            get
            {
                Rigid3 r;
                Native.Check(Native.armap_fusion_map_from_session(handle_, out r));
                return r;
            }
        }

        /// <summary>The pose to render with at timestampS.</summary>
        public Rigid3 MapFromCam(double timestampS)
        {
            Rigid3 r;
            Native.Check(Native.armap_fusion_map_from_cam(handle_, timestampS, out r));
            return r;
        }

        /// <summary>MapFromCam without an exception: false before the first fix or outside the tracking.</summary>
        public bool TryGetMapFromCam(double timestampS, out Rigid3 mapFromCam)
        {
            return Native.armap_fusion_map_from_cam(handle_, timestampS, out mapFromCam) == 0;
        }

        public PoseFusionStats Stats
        {
            get
            {
                var s = new PoseFusionStats();
                Native.Check(Native.armap_fusion_stats_init(ref s));
                Native.Check(Native.armap_fusion_get_stats(handle_, ref s));
                return s;
            }
        }

        public void Reset() { Native.Check(Native.armap_fusion_reset(handle_)); }

        public void Dispose() { handle_.Dispose(); }
    }
}
