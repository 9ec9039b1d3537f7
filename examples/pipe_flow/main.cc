// Pipe flow with a learned regime classifier.
//
// A tank drains through a long heated pipe (examples/pipe_flow/physics.h).
// At every time step a softmax classifier -- an MLP trained by
// tools/train_regime_model.py, called through the one maas::Predictor
// interface -- says whether the flow is laminar, transitional or turbulent,
// and that picks the friction factor and Nusselt correlation used for the
// step. The same drain is integrated with the exact switch on the Reynolds
// number as the reference; the example reports how often the regimes agree
// and how far the level, velocity and wall temperature drift.
//
//   pipe_flow                      embedded model, default tank and pipe
//   pipe_flow --model regime.json  another model file (same architecture)
//   pipe_flow --csv drain.csv      also write both runs, step by step
//   pipe_flow --remote http://127.0.0.1:8080 --remote-model pipe_regime
//   pipe_flow --help
//
// Exit status: 0 when the regimes agree on at least --min-match of the steps
// and the level error is within --tolerance of the initial level, 1 when
// not, 2 for usage or model errors.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "maas/core/predictor.h"
#include "maas/local/model_file.h"
#if MAAS_PIPE_FLOW_REMOTE
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#endif
#include "pipe_flow/physics.h"
#include "pipe_flow/pipe_regime_model.h"  // generated: kPipeRegimeModelJson
#include "pipe_flow/surrogate_regime.h"

namespace {

// The compile-time architecture of the regime model: log10(Re) -> 16 tanh ->
// 3 softmax. A --model file must have the same layers.
using RegimeNet = maas::Network<double, maas::Dense<1, 16, maas::Tanh>,
                                maas::Dense<16, 3, maas::Softmax>>;

struct Options {
  std::string model_path, csv_path, remote_url;
  std::string remote_model = "pipe_regime";
  std::string protocol = "v2";
  double dt = 2.0;               // s
  std::size_t max_steps = 1000000;
  double tolerance = 1e-3;       // max level error / initial level
  double min_match = 0.95;       // fraction of steps whose regimes agree
  pipe_flow::Params params;
  bool help = false;
};

constexpr absl::string_view kUsage =
    "usage: pipe_flow [options]\n"
    "  --model PATH      maas model file log10(Re) -> P(laminar, transitional, turbulent)\n"
    "                    (default: embedded)\n"
    "  --csv PATH        write both runs step by step\n"
    "  --remote URL      run the classifier on an inference server at URL\n"
    "  --remote-model M  the model's name on the server (default pipe_regime)\n"
    "  --protocol P      v2 (KServe V2 JSON), v2-binary or v1 (TF Serving)\n"
    "  --dt S            time step (default 2)\n"
    "  --max-steps N     step limit (default 1000000)\n"
    "  --level M         initial water level above the outlet (default 2)\n"
    "  --diameter M      pipe diameter (default 0.01)\n"
    "  --length M        pipe length (default 5)\n"
    "  --heat-flux W_M2  wall heat flux (default 2000)\n"
    "  --tolerance F     PASS needs max level error <= F * initial level (default 0.001)\n"
    "  --min-match F     PASS needs the regimes to agree on >= F of the steps (default 0.95)\n";

absl::StatusOr<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    if (arg.rfind("--", 0) != 0 ||
        kUsage.find(absl::StrCat("  ", arg, " ")) == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg, "\n", kUsage));
    }
    if (i + 1 >= argc) {
      return absl::InvalidArgumentError(absl::StrCat("option ", arg, " needs a value"));
    }
    const std::string value = argv[++i];
    double number = 0;
    const bool numeric = absl::SimpleAtod(value, &number) && std::isfinite(number);
    auto positive = [&](double* out) -> absl::Status {
      if (!numeric || number <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("option ", arg, ": expected a positive number, got '", value, "'"));
      }
      *out = number;
      return absl::OkStatus();
    };
    absl::Status s;
    if (arg == "--model") {
      o.model_path = value;
    } else if (arg == "--csv") {
      o.csv_path = value;
    } else if (arg == "--remote") {
      o.remote_url = value;
    } else if (arg == "--remote-model") {
      o.remote_model = value;
    } else if (arg == "--protocol") {
      if (value != "v2" && value != "v2-binary" && value != "v1") {
        return absl::InvalidArgumentError(absl::StrCat(
            "option --protocol: expected v2, v2-binary or v1, got '", value, "'"));
      }
      o.protocol = value;
    } else if (arg == "--dt") {
      s = positive(&o.dt);
    } else if (arg == "--max-steps") {
      if (!absl::SimpleAtoi(value, &o.max_steps) || o.max_steps == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option --max-steps: expected a positive integer, got '", value, "'"));
      }
    } else if (arg == "--level") {
      s = positive(&o.params.level0);
    } else if (arg == "--diameter") {
      s = positive(&o.params.diameter);
    } else if (arg == "--length") {
      s = positive(&o.params.length);
    } else if (arg == "--heat-flux") {
      s = positive(&o.params.heat_flux);
    } else if (arg == "--tolerance") {
      s = positive(&o.tolerance);
    } else if (arg == "--min-match") {
      if (!numeric || number < 0 || number > 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option --min-match: expected a fraction in [0, 1], got '", value, "'"));
      }
      o.min_match = number;
    }
    if (!s.ok()) return s;
  }
  return o;
}

// MakePredictor()
//
// The one place that decides where the classifier runs.
absl::StatusOr<std::unique_ptr<maas::Predictor>> MakePredictor(const Options& o) {
  if (!o.remote_url.empty()) {
#if MAAS_PIPE_FLOW_REMOTE
    maas::RemoteModelOptions remote;
    remote.model = o.remote_model;
    remote.protocol = o.protocol == "v1" ? maas::RemoteProtocol::kTfServingV1
                                         : maas::RemoteProtocol::kKServeV2;
    remote.binary = o.protocol == "v2-binary";
    absl::StatusOr<std::unique_ptr<maas::RemoteModel>> model =
        maas::ConnectRemoteModel(o.remote_url, remote);
    if (!model.ok()) return model.status();
    return std::unique_ptr<maas::Predictor>(std::move(*model));
#else
    return absl::UnimplementedError("--remote needs maas::http (MAAS_BUILD_HTTP=ON)");
#endif
  }
  absl::StatusOr<std::unique_ptr<maas::LocalModel<RegimeNet>>> model =
      o.model_path.empty()
          ? maas::LoadLocalModelFromText<RegimeNet>(
                absl::string_view(pipe_flow::kPipeRegimeModelJson.data(),
                                  pipe_flow::kPipeRegimeModelJson.size()),
                "<embedded pipe_regime.json>")
          : maas::LoadLocalModel<RegimeNet>(o.model_path);
  if (!model.ok()) return model.status();
  return std::unique_ptr<maas::Predictor>(std::move(*model));
}

absl::Status WriteCsv(const std::string& path, const pipe_flow::Trajectory& a,
                      const pipe_flow::Trajectory& b) {
  std::ofstream out(path);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write CSV '", path, "'"));
  out << "t,level,velocity,re,regime,f,nu,t_out,t_wall,"
         "level_ref,velocity_ref,re_ref,regime_ref,f_ref,nu_ref,t_out_ref,t_wall_ref\n";
  const std::size_t rows = std::max(a.samples.size(), b.samples.size());
  auto cells = [&out](const pipe_flow::Trajectory& tr, std::size_t i) {
    if (i >= tr.samples.size()) {
      out << ",,,,,,,";
      return;
    }
    const pipe_flow::Sample& s = tr.samples[i];
    out << absl::StrFormat("%.9g,%.9g,%.9g,%d,%.9g,%.9g,%.9g,%.9g", s.level, s.velocity, s.re,
                           static_cast<int>(s.regime), s.f, s.nu, s.t_out, s.t_wall);
  };
  const auto& longer = a.samples.size() >= b.samples.size() ? a : b;
  for (std::size_t i = 0; i < rows; ++i) {
    out << absl::StrFormat("%.9g,", longer.samples[i].t);
    cells(a, i);
    out << ',';
    cells(b, i);
    out << '\n';
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("error writing CSV '", path, "'"));
  return absl::OkStatus();
}

int Run(const Options& o) {
  absl::StatusOr<std::unique_ptr<maas::Predictor>> predictor = MakePredictor(o);
  if (!predictor.ok()) {
    std::cerr << "pipe_flow: " << predictor.status() << "\n";
    return 2;
  }
  absl::StatusOr<pipe_flow::SurrogateRegime> surrogate =
      pipe_flow::SurrogateRegime::Create(**predictor);
  if (!surrogate.ok()) {
    std::cerr << "pipe_flow: " << surrogate.status() << "\n";
    return 2;
  }
  pipe_flow::Classifier learned = [&](double re) { return (*surrogate)(re); };
  pipe_flow::Classifier exact = [](double re) -> absl::StatusOr<pipe_flow::Regime> {
    return pipe_flow::ExactRegime(re);
  };
  absl::StatusOr<pipe_flow::Trajectory> got =
      pipe_flow::Simulate(o.params, o.dt, o.max_steps, learned);
  absl::StatusOr<pipe_flow::Trajectory> ref =
      pipe_flow::Simulate(o.params, o.dt, o.max_steps, exact);
  for (const auto* t : {&got, &ref}) {
    if (!t->ok()) {
      std::cerr << "pipe_flow: simulation failed: " << t->status() << "\n";
      return 2;
    }
  }
  if (!got->drained || !ref->drained) {
    std::cerr << "pipe_flow: the tank did not drain within " << o.max_steps
              << " steps; raise --max-steps or --dt\n";
    return 2;
  }
  if (!o.csv_path.empty()) {
    if (absl::Status s = WriteCsv(o.csv_path, *got, *ref); !s.ok()) {
      std::cerr << "pipe_flow: " << s << "\n";
      return 2;
    }
  }
  const pipe_flow::Comparison c = pipe_flow::Compare(*got, *ref);
  std::size_t counts[3] = {0, 0, 0};
  for (const pipe_flow::Sample& s : ref->samples) ++counts[static_cast<int>(s.regime)];
  auto share = [&](std::size_t n) {
    return 100.0 * static_cast<double>(n) / static_cast<double>(ref->samples.size());
  };
  const double level_err = c.max_level_error / o.params.level0;
  const bool pass = c.regime_match_fraction() >= o.min_match && level_err <= o.tolerance;
  const auto& p = o.params;
  absl::PrintF("maas pipe-flow example: %.2f m^2 tank, %.1f m water, draining through a %.0f mm x "
               "%.1f m pipe heated at %.0f W/m^2\n",
               p.tank_area, p.level0, p.diameter * 1e3, p.length, p.heat_flux);
  absl::PrintF("regime model: '%s' version '%s' (%s), log10(Re) -> P(laminar, transitional, "
               "turbulent), via maas::Predictor\n",
               surrogate->model_name(), surrogate->model_version(),
               !o.remote_url.empty() ? absl::StrCat(o.remote_url, " ", o.protocol)
               : o.model_path.empty() ? std::string("embedded")
                                      : o.model_path);
  absl::PrintF("reference: exact switch at Re 2300 / 4000; explicit Euler, dt = %g s, %d steps, "
               "drained in %.0f s\n",
               o.dt, static_cast<int>(ref->samples.size()), ref->drain_time);
  absl::PrintF("reference regimes: %.1f%% turbulent, %.1f%% transitional, %.1f%% laminar of "
               "the steps; Re %.0f .. %.0f\n",
               share(counts[2]), share(counts[1]), share(counts[0]), ref->samples.back().re,
               ref->samples.front().re);
  absl::PrintF("regime match: %zu of %zu steps (%.3f%%)\n", c.regime_matches, c.steps,
               100 * c.regime_match_fraction());
  absl::PrintF("level:  max error %.3g m (%.4f%% of the initial level); drain time surrogate "
               "%.0f s, reference %.0f s\n",
               c.max_level_error, 100 * level_err, got->drain_time, ref->drain_time);
  absl::PrintF("velocity: max relative error %.3g; wall temperature: max error %.3g K at t = "
               "%.0f s\n",
               c.max_rel_velocity_error, c.max_wall_temp_error, c.max_wall_temp_error_t);
  absl::PrintF("predict calls: %d, mean %.0f ns per call (Predictor::Predict, incl. timer)\n",
               surrogate->calls(), surrogate->mean_call_ns());
  if (!o.csv_path.empty()) absl::PrintF("CSV: %s\n", o.csv_path);
  absl::PrintF("result: %s (regimes agree on %.3f%% of the steps, need %g%%; level error "
               "%.4f%%, tolerance %g%%)\n",
               pass ? "PASS" : "FAIL", 100 * c.regime_match_fraction(), 100 * o.min_match,
               100 * level_err, 100 * o.tolerance);
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Options> options = ParseArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "pipe_flow: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << kUsage;
    return 0;
  }
  return Run(*options);
}
