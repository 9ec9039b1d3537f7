/* The C API header compiles as strict C (C99, -Wall -Wextra -Wpedantic) and
 * a C program links libmaas_c and gets statuses, not crashes, for bad input. */
#include <stdio.h>
#include <string.h>

#include "maas/c/maas.h"

int main(void) {
  double x[2] = {1.0, 2.0};
  double y[1] = {-1.0};
  maas_model* model = NULL;
  int64_t n = 0;
  int rc = maas_model_predict_f64(NULL, x, 1, 2, y, 1, 1);
  if (rc != MAAS_INVALID_ARGUMENT || y[0] != -1.0 || strlen(maas_last_error()) == 0) {
    fprintf(stderr, "null handle: rc %d (%s)\n", rc, maas_last_error());
    return 1;
  }
  printf("null handle: %s: %s\n", maas_status_name(rc), maas_last_error());
  rc = maas_model_input_size(model, &n);
  if (rc != MAAS_INVALID_ARGUMENT) return 1;
  maas_model_free(NULL);
  printf("maas %s C API ok\n", maas_version());
  return 0;
}
