// Per-call overhead of the C# layer over the C ABI: the same calls timed
// through Armap.Sdk (P/Invoke + SafeHandle + error check) as
// fusion_overhead_c times them from C. Prints ns per call.
//   mono OverheadBench.exe [iterations]
using System;
using System.Diagnostics;
using Armap.Sdk;

public static class OverheadBench
{
    public static int Main(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 2000000;
        // Warm up the JIT and the marshalling stubs.
        Run(n / 10, false);
        Run(n, true);
        return 0;
    }

    static void Run(int n, bool print)
    {
        var watch = Stopwatch.StartNew();
        int sum = 0;
        for (int i = 0; i < n; ++i) sum += ArmapClient.StatusName(StatusCode.NotFound).Length;
        double nameNs = watch.Elapsed.TotalMilliseconds * 1e6 / n;

        using (var fusion = new PoseFusion())
        {
            fusion.AddTracking(0, Rigid3.Identity);
            fusion.AddFix(0, Rigid3.Identity, 1.0);
            var pose = Rigid3.Identity;
            watch.Restart();
            for (int i = 1; i <= n; ++i)
            {
                pose.Tx = i * 1e-4;
                fusion.AddTracking(i / 60.0, pose);
            }
            double trackNs = watch.Elapsed.TotalMilliseconds * 1e6 / n;
            watch.Restart();
            double acc = 0;
            double last = n / 60.0;
            for (int i = 0; i < n; ++i) acc += fusion.MapFromCam(last).Tx;
            double queryNs = watch.Elapsed.TotalMilliseconds * 1e6 / n;
            if (print)
            {
                Console.WriteLine("csharp status_name_ns {0:F1}", nameNs);
                Console.WriteLine("csharp fusion_add_tracking_ns {0:F1}", trackNs);
                Console.WriteLine("csharp fusion_map_from_cam_ns {0:F1}", queryNs);
                Console.WriteLine("(checksum {0} {1:F3})", sum, acc);
            }
        }
    }
}
