/* Consumer of the installed C API (maas::c / maas-c.pc). */
#include <stdio.h>

#include "maas/c/maas.h"

int main(void) {
  maas_model* model = NULL;
  int rc = maas_model_connect_remote("http://127.0.0.1:1", "m", "v2", 5.0, &model);
  if (model != NULL || (rc != MAAS_UNAVAILABLE && rc != MAAS_UNIMPLEMENTED)) {
    fprintf(stderr, "unexpected: %s: %s\n", maas_status_name(rc), maas_last_error());
    return 1;
  }
  printf("maas %s C consumer ok: %s\n", maas_version(), maas_status_name(rc));
  return 0;
}
