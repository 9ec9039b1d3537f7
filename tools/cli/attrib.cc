// `maas attrib FILE --input F`: input attributions of a maas model file,
// per row of F and per output: gradient x input and integrated gradients
// (maas/local/attribution.h) from a baseline, with the completeness check
// sum(IG) = f(x) - f(baseline) and its residual. The network runs in double
// on the run-time-sized network (maas::DynamicNetwork).
//
//   maas attrib model.json --input x.csv [--baseline zero|mean|B.csv]
//                          [--steps 64] [--target J]
//
// --baseline: zero (default), mean (the file's input_mean: the average
// input, when the file standardises its inputs; else zero) or a data file
// with one row. --target J: only output J (default: every output).

#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "cli.h"
#include "data_io.h"
#include "flags.h"

#ifndef MAAS_CLI_HAVE_DYNAMIC_NETWORK
#define MAAS_CLI_HAVE_DYNAMIC_NETWORK 0
#endif
#if MAAS_CLI_HAVE_DYNAMIC_NETWORK
#include "maas/local/attribution.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/model_file.h"
#endif

ABSL_FLAG(std::string, baseline, "zero",
          "attrib: integrated gradients' baseline: zero, mean (the file's input_mean) or a "
          "data file with one row");
ABSL_FLAG(int32_t, steps, 64, "attrib: integration points of integrated gradients (midpoint rule)");
ABSL_FLAG(int32_t, target, -1, "attrib: only this output (default: every output)");

namespace maas_cli {

#if MAAS_CLI_HAVE_DYNAMIC_NETWORK
namespace {

std::string Num(double v) { return absl::StrFormat("%.6g", v); }

}  // namespace

int Attrib(const std::vector<std::string>& args) {
  constexpr absl::string_view kCommand = "attrib";
  if (args.size() != 1 || absl::GetFlag(FLAGS_input).empty()) {
    std::cerr << "maas attrib: usage: maas attrib MODEL.json --input F [--baseline "
                 "zero|mean|F] [--steps N] [--target J]\n";
    return kExitUsage;
  }
  const int steps = absl::GetFlag(FLAGS_steps);
  if (steps < 1) {
    std::cerr << "maas attrib: --steps must be at least 1\n";
    return kExitUsage;
  }
  const std::string& path = args[0];
  absl::StatusOr<maas::ModelFile> file = maas::ReadModelFile(path);
  if (!file.ok()) return Fail(kCommand, file.status(), kExitRefused);
  absl::StatusOr<maas::DynamicNetwork<double>> net =
      maas::DynamicNetwork<double>::FromModelFile(*file, {}, path);
  if (!net.ok()) return Fail(kCommand, net.status(), kExitRefused);
  const std::size_t n_in = net->input_size(), n_out = net->output_size();
  const int target = absl::GetFlag(FLAGS_target);
  if (target >= static_cast<int>(n_out)) {
    std::cerr << "maas attrib: --target " << target << ": the model has " << n_out
              << " outputs\n";
    return kExitUsage;
  }

  const std::string input_path = absl::GetFlag(FLAGS_input);
  absl::StatusOr<Matrix> x = ReadMatrix(input_path);
  if (!x.ok()) return Fail(kCommand, x.status(), kExitData);
  if (x->cols != n_in) {
    return Fail(kCommand,
                absl::InvalidArgumentError(absl::StrCat(input_path, ": ", x->cols,
                                                        " columns, the model takes ", n_in,
                                                        " inputs")),
                kExitData);
  }
  const std::string baseline_flag = absl::GetFlag(FLAGS_baseline);
  std::vector<double> baseline(n_in, 0.0);
  std::string baseline_name = baseline_flag;
  if (baseline_flag == "mean") {
    if (!file->input_mean.empty()) {
      baseline = file->input_mean;
    } else {
      baseline_name = "mean (the file has no input_mean: zero)";
    }
  } else if (baseline_flag != "zero") {
    absl::StatusOr<Matrix> b = ReadMatrix(baseline_flag);
    if (!b.ok()) return Fail(kCommand, b.status(), kExitData);
    if (b->rows != 1 || b->cols != n_in) {
      return Fail(kCommand,
                  absl::InvalidArgumentError(absl::StrCat(
                      baseline_flag, ": the baseline is one row of ", n_in, " values, not ",
                      b->rows, " x ", b->cols)),
                  kExitData);
    }
    baseline = b->values;
  }

  const std::string& in_name = file->signature.inputs[0].name;
  const std::string& out_name = file->signature.outputs[0].name;
  std::cout << "model: " << path << ": " << n_in << " inputs, " << n_out << " outputs\n"
            << "integrated gradients: straight path from the baseline (" << baseline_name
            << "), " << steps << " steps (midpoint rule)\n";
  for (std::size_t r = 0; r < x->rows; ++r) {
    const absl::Span<const double> row(x->values.data() + r * n_in, n_in);
    absl::StatusOr<maas::Attributions> ig = maas::IntegratedGradients(
        *net, row, absl::MakeConstSpan(baseline), maas::IntegratedGradientsOptions{steps});
    if (!ig.ok()) return Fail(kCommand, ig.status(), kExitData);
    absl::StatusOr<maas::Attributions> gxi = maas::GradientTimesInput(*net, row);
    if (!gxi.ok()) return Fail(kCommand, gxi.status(), kExitData);
    for (std::size_t o = 0; o < n_out; ++o) {
      if (target >= 0 && o != static_cast<std::size_t>(target)) continue;
      double sum = 0;
      for (std::size_t i = 0; i < n_in; ++i) sum += ig->values[o * n_in + i];
      std::cout << "\nrow " << r << ", output " << out_name << "[" << o << "]: f(x) = "
                << Num(ig->output[o]) << ", f(baseline) = " << Num(ig->baseline_output[o])
                << ", sum(IG) = " << Num(sum) << ", completeness residual = "
                << absl::StrFormat("%.3g", ig->residual[o]) << " (relative "
                << absl::StrFormat("%.3g", ig->relative_residual[o]) << ")\n";
      Table table({"input", "x", "baseline", "gradient_x_input", "integrated_gradients"});
      for (std::size_t i = 0; i < n_in; ++i) {
        const std::string name = i < x->names.size() && !x->names[i].empty()
                                     ? x->names[i]
                                     : absl::StrCat(in_name, "[", i, "]");
        table.Add({name, Num(row[i]), Num(baseline[i]), Num(gxi->values[o * n_in + i]),
                   Num(ig->values[o * n_in + i])});
      }
      std::cout << table.ToString();
    }
  }
  return kExitOk;
}

#else

int Attrib(const std::vector<std::string>& args) {
  (void)args;
  return Fail("attrib",
              absl::UnimplementedError("attributions need maas::DynamicNetwork "
                                       "(include/maas/local/dynamic_network.h), which this "
                                       "build does not have"),
              kExitRefused);
}

#endif

}  // namespace maas_cli
