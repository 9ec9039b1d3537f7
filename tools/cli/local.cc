// OpenLocal(): model files run in-process by maas::DynamicNetwork
// (include/maas/local/dynamic_network.h), the run-time-sized network.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli.h"

// Set by tools/cli/CMakeLists.txt when include/maas/local/dynamic_network.h
// exists.
#ifndef MAAS_CLI_HAVE_DYNAMIC_NETWORK
#define MAAS_CLI_HAVE_DYNAMIC_NETWORK 0
#endif
#if MAAS_CLI_HAVE_DYNAMIC_NETWORK
#include "maas/local/dynamic_network.h"
#endif

namespace maas_cli {

bool HaveLocal() { return MAAS_CLI_HAVE_DYNAMIC_NETWORK != 0; }

absl::StatusOr<std::unique_ptr<maas::Predictor>> OpenLocal(const std::string& path,
                                                           maas::DataType dtype) {
#if MAAS_CLI_HAVE_DYNAMIC_NETWORK
  maas::DynamicModelOptions options;
  options.dtype = dtype;
  return maas::LoadDynamicModel(path, options);
#else
  (void)dtype;
  return absl::UnimplementedError(
      "running the model file '" + path +
      "' in-process needs maas::DynamicNetwork (include/maas/local/dynamic_network.h), "
      "which this build does not have");
#endif
}

}  // namespace maas_cli
