// -----------------------------------------------------------------------------
// File: tools/cli/flags.h
// -----------------------------------------------------------------------------
//
// The `maas` command's flags (Abseil flags, defined in main.cc). Users may
// spell them with dashes (--batch-sizes); main() maps dashes to the
// underscores Abseil expects before parsing.

#ifndef MAAS_TOOLS_CLI_FLAGS_H_
#define MAAS_TOOLS_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, version);
ABSL_DECLARE_FLAG(std::string, protocol);
ABSL_DECLARE_FLAG(bool, binary);
ABSL_DECLARE_FLAG(double, timeout);
ABSL_DECLARE_FLAG(std::string, local);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(bool, fp32);
ABSL_DECLARE_FLAG(bool, fp64);
ABSL_DECLARE_FLAG(std::string, inputs);
ABSL_DECLARE_FLAG(int32_t, samples);
ABSL_DECLARE_FLAG(int32_t, seed);
ABSL_DECLARE_FLAG(std::vector<std::string>, batch_sizes);
ABSL_DECLARE_FLAG(std::vector<std::string>, concurrency);
ABSL_DECLARE_FLAG(std::vector<std::string>, modes);
ABSL_DECLARE_FLAG(int32_t, requests);
ABSL_DECLARE_FLAG(double, seconds);
ABSL_DECLARE_FLAG(int32_t, warmup);
ABSL_DECLARE_FLAG(std::string, csv);
ABSL_DECLARE_FLAG(std::string, plot);
ABSL_DECLARE_FLAG(std::string, python);
ABSL_DECLARE_FLAG(std::string, progress);
ABSL_DECLARE_FLAG(std::vector<std::string>, header);

#endif  // MAAS_TOOLS_CLI_FLAGS_H_
