// Console sample: localize a photo against an armap server, then feed the
// pose to a PoseFusion as a phone app would.
//   mono Localize.exe HOST:PORT IMAGE.jpg WIDTH HEIGHT fx,fy,cx,cy [lat,lon,alt,accuracy_m]
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Armap.Sdk;

public static class LocalizeSample
{
    public static int Main(string[] args)
    {
        if (args.Length < 5)
        {
            Console.Error.WriteLine("usage: mono Localize.exe HOST:PORT IMAGE WIDTH HEIGHT fx,fy,cx,cy [lat,lon,alt,accuracy_m]");
            return 2;
        }
        Func<string, double[]> parse = s => s.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        try
        {
            using (var client = ArmapClient.ConnectAsync(args[0], new ClientOptions { ConnectTimeoutMs = 5000 }).Result)
            {
                foreach (MapInfo map in client.ListMapsAsync().Result)
                {
                    Console.WriteLine("map {0} v{1}: {2} views, {3} landmarks", map.MapId, map.MapVersion, map.NumViews, map.NumLandmarks);
                }
                var request = new LocalizeRequest();
                request.Camera.Width = uint.Parse(args[2]);
                request.Camera.Height = uint.Parse(args[3]);
                request.Camera.Params = parse(args[4]);
                if (args.Length > 5)
                {
                    double[] p = parse(args[5]);
                    request.Prior.HasPosition = true;
                    request.Prior.LatDeg = p[0];
                    request.Prior.LonDeg = p[1];
                    request.Prior.AltM = p[2];
                    request.Prior.AccuracyM = p[3];
                }
                LocalizeResult r = client.LocalizeImageAsync(File.ReadAllBytes(args[1]), request).Result;
                if (!r.Success)
                {
                    Console.WriteLine("not localized: {0} ({1})", r.FailureReason, r.FailureMessage);
                    return 1;
                }
                Console.WriteLine("cam_from_world {0}", r.CamFromWorld);
                Console.WriteLine("geo lat {0:F7} lon {1:F7} heading {2:F1} deg; {3} inliers, confidence {4:F2}, {5:F0} ms",
                                  r.GeoPose.LatDeg, r.GeoPose.LonDeg, r.GeoPose.HeadingDeg, r.NumInliers, r.Confidence, r.ClientMs);

                // In an AR app: tracking every frame, the fix when it arrives.
                using (var fusion = new PoseFusion())
                {
                    fusion.AddTracking(0.0, Rigid3.Identity);
                    FixOutcome outcome = fusion.AddFix(0.0, Invert(r.CamFromWorld), r.Confidence);
                    Console.WriteLine("fusion: {0}; map_from_session {1}", outcome, fusion.MapFromSession);
                }
            }
            return 0;
        }
        catch (AggregateException e) when (e.InnerException is ArmapException)
        {
            var a = (ArmapException)e.InnerException;
            Console.Error.WriteLine("armap error {0}: {1}", a.Code, a.NativeMessage);
            return 1;
        }
    }

    // cam_from_world -> world_from_cam.
    static Rigid3 Invert(Rigid3 p)
    {
        double w = p.Qw, x = -p.Qx, y = -p.Qy, z = -p.Qz;
        // t' = -R^T t, R^T as the conjugate quaternion.
        double[] t = Rotate(w, x, y, z, p.Tx, p.Ty, p.Tz);
        return new Rigid3(w, x, y, z, -t[0], -t[1], -t[2]);
    }

    static double[] Rotate(double w, double x, double y, double z, double vx, double vy, double vz)
    {
        // v + 2 w (q x v) + 2 q x (q x v)
        double cx = y * vz - z * vy, cy = z * vx - x * vz, cz = x * vy - y * vx;
        double ccx = y * cz - z * cy, ccy = z * cx - x * cz, ccz = x * cy - y * cx;
        return new[] { vx + 2 * (w * cx + ccx), vy + 2 * (w * cy + ccy), vz + 2 * (w * cz + ccz) };
    }
}
