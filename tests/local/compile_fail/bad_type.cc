// Must not compile: a network's element type must be float or double.
#include "maas/local/network.h"

int main() {
  maas::Network<int, maas::Dense<4, 16>> net;
  (void)net;
  return 0;
}
