/* The C side of the per-call overhead benchmark (OverheadBench.cs): the
 * same calls straight through the C ABI. Prints ns per call.
 *   fusion_overhead_c [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "armap/armap_c.h"

static double NowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 2000000;
  ArmapFusion* fusion = NULL;
  ArmapRigid3 pose = {1, 0, 0, 0, 0, 0, 0};
  ArmapRigid3 out;
  int32_t outcome = 0;
  size_t sum = 0;
  double acc = 0, t0, name_ns, track_ns, query_ns;
  int i;
  t0 = NowNs();
  for (i = 0; i < n; ++i) sum += strlen(armap_status_name(ARMAP_NOT_FOUND));
  name_ns = (NowNs() - t0) / n;
  if (armap_fusion_create(NULL, &fusion) != ARMAP_OK ||
      armap_fusion_add_tracking(fusion, 0, &pose) != ARMAP_OK ||
      armap_fusion_add_fix(fusion, 0, &pose, 1.0, &outcome) != ARMAP_OK) {
    fprintf(stderr, "fusion: %s\n", armap_last_error());
    return 1;
  }
  t0 = NowNs();
  for (i = 1; i <= n; ++i) {
    pose.tx = i * 1e-4;
    if (armap_fusion_add_tracking(fusion, i / 60.0, &pose) != ARMAP_OK) return 1;
  }
  track_ns = (NowNs() - t0) / n;
  t0 = NowNs();
  for (i = 0; i < n; ++i) {
    if (armap_fusion_map_from_cam(fusion, n / 60.0, &out) != ARMAP_OK) return 1;
    acc += out.tx;
  }
  query_ns = (NowNs() - t0) / n;
  printf("c status_name_ns %.1f\nc fusion_add_tracking_ns %.1f\nc fusion_map_from_cam_ns %.1f\n(checksum %zu %.3f)\n",
         name_ns, track_ns, query_ns, sum, acc);
  armap_fusion_free(fusion);
  return 0;
}
