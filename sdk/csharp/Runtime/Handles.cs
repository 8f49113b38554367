// SafeHandles for the C ABI's opaque handles: released exactly once, even
// when the owner is not disposed (finalizer), never while a call is using it.
using System;
using System.Runtime.InteropServices;

namespace Armap.Sdk
{
    internal sealed class ClientHandle : SafeHandle
    {
        public ClientHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { Native.armap_client_free(handle); return true; }
    }

    internal sealed class StreamHandle : SafeHandle
    {
        public StreamHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { Native.armap_stream_free(handle); return true; }
    }

    internal sealed class FusionHandle : SafeHandle
    {
        public FusionHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle() { Native.armap_fusion_free(handle); return true; }
    }
}
