/* Check macros for the plain C programs that exercise the C ABI: each check
 * is counted, a failure prints the location and the ABI's last error. The
 * including program defines nothing; it reports g_checks / g_failures. */
#ifndef ARMAP_TESTS_C_CHECK_H_
#define ARMAP_TESTS_C_CHECK_H_

#include <stdio.h>
#include <string.h>

#include "armap/armap_c.h"

static int g_checks = 0;
static int g_failures = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    ++g_checks;                                                            \
    if (!(cond)) {                                                         \
      ++g_failures;                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: \"%s\")\n",    \
              __FILE__, __LINE__, #cond, armap_last_error());              \
    }                                                                      \
  } while (0)

/* The call returned `code` and left a message naming `word`. */
#define CHECK_ERROR(call, code, word)                                      \
  do {                                                                     \
    int32_t rc_ = (call);                                                  \
    ++g_checks;                                                            \
    if (rc_ != (code) || strstr(armap_last_error(), (word)) == NULL) {     \
      ++g_failures;                                                        \
      fprintf(stderr, "%s:%d: %s returned %s (\"%s\"); expected %s naming '%s'\n", \
              __FILE__, __LINE__, #call, armap_status_name(rc_),           \
              armap_last_error(), armap_status_name(code), (word));        \
    }                                                                      \
  } while (0)

#endif /* ARMAP_TESTS_C_CHECK_H_ */
