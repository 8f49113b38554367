// The visual positioning client over the C ABI. Every *Async method runs the
// blocking native call on the thread pool (Task.Run), so the caller's thread
// (Unity's main thread) never waits on the network.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Armap.Sdk
{
    public sealed partial class ArmapClient : IDisposable
    {
        private readonly ClientHandle handle_;

        private ArmapClient(ClientHandle handle) { handle_ = handle; }

        /// <summary>The native library's version, "MAJOR.MINOR.PATCH".</summary>
        public static string NativeVersion { get { return Native.PtrToUtf8(Native.armap_version()); } }

        /// <summary>The name of a status code as the C ABI spells it ("NOT_FOUND").</summary>
        public static string StatusName(StatusCode code) { return Native.PtrToUtf8(Native.armap_status_name((int)code)); }

        /// <summary>Creates a client for "host:port" (blocks up to ConnectTimeoutMs when it is set).</summary>
        public static ArmapClient Connect(string target, ClientOptions options = null)
        {
            var native = new NativeClientOptions();
            Native.Check(Native.armap_client_options_init(ref native));
            if (options != null)
            {
                if (options.MaxMessageBytes != 0) native.MaxMessageBytes = options.MaxMessageBytes;
                if (options.TimeoutMs != 0) native.TimeoutMs = options.TimeoutMs;
                native.ConnectTimeoutMs = options.ConnectTimeoutMs;
            }
            ClientHandle handle;
            int rc = Native.armap_client_connect(Native.Utf8z(target), ref native, out handle);
            if (rc != 0)
            {
                handle.Dispose();
                Native.Check(rc);
            }
            return new ArmapClient(handle);
        }

        public static Task<ArmapClient> ConnectAsync(string target, ClientOptions options = null)
        {
            return Task.Run(() => Connect(target, options));
        }

        public Task WaitForReadyAsync(long timeoutMs)
        {
            ThrowIfDisposed();
            return Task.Run(() => Native.Check(Native.armap_client_wait_for_ready(handle_, timeoutMs)));
        }

        /// <summary>Localizes an encoded image (JPEG or PNG). Blocks; prefer LocalizeImageAsync.</summary>
        public LocalizeResult LocalizeImage(byte[] image, LocalizeRequest request)
        {
            ThrowIfDisposed();
            if (image == null) throw new ArgumentNullException("image");
            return Marshalling.Localize(request, (ref NativeLocalizeParams p, ref NativeLocalizeResult r) =>
                Marshalling.CallImage(handle_, null, ref p, image, ref r));
        }

        public Task<LocalizeResult> LocalizeImageAsync(byte[] image, LocalizeRequest request,
                                                       CancellationToken cancellation = default(CancellationToken))
        {
            ThrowIfDisposed();
            if (image == null) throw new ArgumentNullException("image");
            return Task.Run(() => LocalizeImage(image, request), cancellation);
        }

        /// <summary>Localizes features extracted on the device: keypoints n x 4 (x, y, scale px, angle rad),
        /// descriptors n x dim bytes, row-major.</summary>
        public LocalizeResult LocalizeFeatures(float[] keypoints, byte[] descriptors, int dim, LocalizeRequest request)
        {
            ThrowIfDisposed();
            Marshalling.CheckFeatures(keypoints, descriptors, dim);
            return Marshalling.Localize(request, (ref NativeLocalizeParams p, ref NativeLocalizeResult r) =>
                Marshalling.CallFeatures(handle_, null, ref p, keypoints, descriptors, dim, ref r));
        }

        public Task<LocalizeResult> LocalizeFeaturesAsync(float[] keypoints, byte[] descriptors, int dim,
                                                          LocalizeRequest request,
                                                          CancellationToken cancellation = default(CancellationToken))
        {
            ThrowIfDisposed();
            Marshalling.CheckFeatures(keypoints, descriptors, dim);
            return Task.Run(() => LocalizeFeatures(keypoints, descriptors, dim, request), cancellation);
        }

        public unsafe MapInfo[] ListMaps()
        {
            ThrowIfDisposed();
            uint count;
            Native.Check(Native.armap_client_list_maps(handle_, null, 0, out count));
            while (true)
            {
                var maps = new NativeMapInfo[Math.Max(count, 1)];
                for (int i = 0; i < maps.Length; ++i) Native.Check(Native.armap_map_info_init(ref maps[i]));
                uint total;
                fixed (NativeMapInfo* p = maps)
                {
                    Native.Check(Native.armap_client_list_maps(handle_, p, (uint)maps.Length, out total));
                }
                if (total <= maps.Length)
                {
                    var result = new MapInfo[total];
                    for (int i = 0; i < total; ++i) result[i] = Marshalling.ToMapInfo(ref maps[i]);
                    return result;
                }
                count = total;  // maps were added meanwhile
            }
        }

        public Task<MapInfo[]> ListMapsAsync() { ThrowIfDisposed(); return Task.Run(() => ListMaps()); }

        /// <summary>ArmapException(NotFound) for an unknown map id.</summary>
        public MapInfo GetMapInfo(string mapId)
        {
            ThrowIfDisposed();
            var info = new NativeMapInfo();
            Native.Check(Native.armap_map_info_init(ref info));
            Native.Check(Native.armap_client_get_map_info(handle_, Native.Utf8z(mapId ?? ""), ref info));
            return Marshalling.ToMapInfo(ref info);
        }

        public Task<MapInfo> GetMapInfoAsync(string mapId) { ThrowIfDisposed(); return Task.Run(() => GetMapInfo(mapId)); }

        /// <summary>Opens a continuous AR session (LocalizeStream): each answer is the next request's prior.</summary>
        public LocalizeStream OpenStream()
        {
            ThrowIfDisposed();
            StreamHandle stream;
            int rc = Native.armap_client_open_stream(handle_, out stream);
            if (rc != 0)
            {
                stream.Dispose();
                Native.Check(rc);
            }
            return new LocalizeStream(stream);
        }

        public Task<LocalizeStream> OpenStreamAsync() { ThrowIfDisposed(); return Task.Run(() => OpenStream()); }

        public void Dispose() { handle_.Dispose(); }

        private void ThrowIfDisposed()
        {
            if (handle_.IsClosed) throw new ObjectDisposedException("ArmapClient");
        }
    }

    /// <summary>A LocalizeStream session. Calls are serialised (the native stream is used by one thread at a
    /// time); it may outlive its client.</summary>
    public sealed class LocalizeStream : IDisposable
    {
        private readonly StreamHandle handle_;
        private readonly object lock_ = new object();

        internal LocalizeStream(StreamHandle handle) { handle_ = handle; }

        public LocalizeResult LocalizeImage(byte[] image, LocalizeRequest request)
        {
            if (image == null) throw new ArgumentNullException("image");
            lock (lock_)
            {
                ThrowIfDisposed();
                return Marshalling.Localize(request, (ref NativeLocalizeParams p, ref NativeLocalizeResult r) =>
                    Marshalling.CallImage(null, handle_, ref p, image, ref r));
            }
        }

        public Task<LocalizeResult> LocalizeImageAsync(byte[] image, LocalizeRequest request)
        {
            ThrowIfDisposed();
            return Task.Run(() => LocalizeImage(image, request));
        }

        public LocalizeResult LocalizeFeatures(float[] keypoints, byte[] descriptors, int dim, LocalizeRequest request)
        {
            Marshalling.CheckFeatures(keypoints, descriptors, dim);
            lock (lock_)
            {
                ThrowIfDisposed();
                return Marshalling.Localize(request, (ref NativeLocalizeParams p, ref NativeLocalizeResult r) =>
                    Marshalling.CallFeatures(null, handle_, ref p, keypoints, descriptors, dim, ref r));
            }
        }

        public Task<LocalizeResult> LocalizeFeaturesAsync(float[] keypoints, byte[] descriptors, int dim,
                                                          LocalizeRequest request)
        {
            ThrowIfDisposed();
            return Task.Run(() => LocalizeFeatures(keypoints, descriptors, dim, request));
        }

        /// <summary>Ends the session; throws if it ended with an error. Idempotent.</summary>
        public void Close()
        {
            lock (lock_)
            {
                ThrowIfDisposed();
                Native.Check(Native.armap_stream_close(handle_));
            }
        }

        public Task CloseAsync() { return Task.Run(() => Close()); }

        public void Dispose() { lock (lock_) handle_.Dispose(); }

        private void ThrowIfDisposed()
        {
            if (handle_.IsClosed) throw new ObjectDisposedException("LocalizeStream");
        }
    }
}
