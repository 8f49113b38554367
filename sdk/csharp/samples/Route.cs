// Console sample: plan a walking route to a POI (or a point) and walk it in a
// guidance session, printing the prompts as an AR app would speak them.
//   mono Route.exe HOST:PORT START_LAT,START_LON POI_NAME|LAT,LON
using System;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Armap.Sdk;

public static class RouteSample
{
    public static async Task<int> Run(string[] args)
    {
        Func<string, double[]> parse = s => s.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        double[] start = parse(args[1]);
        var request = new RouteRequest { RequestId = "route-sample", StartLatDeg = start[0], StartLonDeg = start[1] };
        double[] point;
        string[] parts = args[2].Split(',');
        if (parts.Length == 2 && parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double unused)))
        {
            point = parse(args[2]);
            request.Destination = new GeoPoint(point[0], point[1]);
        }
        else
        {
            request.PoiName = args[2];
        }
        using (ArmapClient client = await ArmapClient.ConnectAsync(args[0], new ClientOptions { ConnectTimeoutMs = 5000 }))
        {
            NavRoute route = (await client.RouteAsync(request))[0];
            Console.WriteLine("route {0:F0} m, {1:F0} s walk, {2} crossing(s)", route.LengthM, route.EtaS, route.Crossings);
            foreach (Maneuver m in route.Maneuvers) Console.WriteLine("  {0,6:F0} m  {1} / {2}", m.AtM, m.PromptEn, m.PromptZh);
            // Walk the route in a guidance session, a pose every 5 m, and print each new prompt.
            using (GuideSession guide = await client.OpenGuideAsync(request, NavPose.Wgs84(start[0], start[1], 0, 0)))
            {
                string last = guide.First.PromptEn;
                Console.WriteLine("guide: {0}", last);
                MapPoint[] line = guide.First.Route.PolylineMap;
                double t = 0;
                for (int i = 0; i + 1 < line.Length; ++i)
                {
                    double dx = line[i + 1].X - line[i].X, dy = line[i + 1].Y - line[i].Y, len = Math.Sqrt(dx * dx + dy * dy);
                    for (double s = 0; s < len; s += 5.0)
                    {
                        GuideUpdate u = await guide.SendPoseAsync(NavPose.InMap(line[i].X + dx * s / len, line[i].Y + dy * s / len, 0, t += 4));
                        if (u.PromptEn != last) Console.WriteLine("guide at {0:F0} m: {1}", u.ProgressM, last = u.PromptEn);
                    }
                }
                MapPoint end = line[line.Length - 1];
                GuideUpdate final = await guide.SendPoseAsync(NavPose.InMap(end.X, end.Y, 0, t += 4));
                Console.WriteLine("guide: {0} (arrived: {1})", final.PromptEn, final.Arrived);
                await guide.CloseAsync();
            }
        }
        return 0;
    }

    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: mono Route.exe HOST:PORT START_LAT,START_LON POI_NAME|LAT,LON");
            return 2;
        }
        try
        {
            return Run(args).Result;
        }
        catch (AggregateException e) when (e.InnerException is ArmapException)
        {
            var a = (ArmapException)e.InnerException;
            Console.Error.WriteLine("{0}: {1}", ArmapClient.StatusName(a.Code), a.NativeMessage);
            return 1;
        }
    }
}
