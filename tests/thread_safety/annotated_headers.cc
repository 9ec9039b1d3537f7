// Compiled by Clang with -Wthread-safety -Werror (tests/thread_safety): every
// maas class with shared state keeps ABSL_GUARDED_BY / ABSL_LOCKS_EXCLUDED
// annotations on its members, and this checks them statically. Add a header
// here when it gains a mutex.
#include "maas/core/detail/mutex.h"
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#include "maas/testing/fake_transport.h"

int main() { return 0; }
