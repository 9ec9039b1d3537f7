// Must not compile: layer 1 expects 8 inputs but layer 0 produces 16.
#include "maas/local/network.h"

int main() {
  maas::Network<float, maas::Dense<4, 16, maas::Relu>, maas::Dense<8, 3>> net;
  (void)net;
  return 0;
}
