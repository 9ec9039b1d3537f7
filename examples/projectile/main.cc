// Projectile with a learned drag law.
//
// A small sphere is launched through air; its drag coefficient Cd(Re) comes
// from a learned surrogate (an MLP trained on the Clift-Gauvin correlation by
// tools/train_drag_model.py), called through the one maas::Predictor interface
// at every Runge-Kutta stage. The same flight is integrated with the exact
// correlation as the reference, and the example reports how far the surrogate
// trajectory is from it and what each predict call cost.
//
//   projectile                      embedded model, default launch
//   projectile --model drag.json    another model file (same architecture)
//   projectile --csv flight.csv     also write both trajectories
//   projectile --remote http://127.0.0.1:8080 --remote-model drag_cd
//                                   the same model on an inference server
//   projectile --remote http://127.0.0.1:8080 --fallback local
//                                   the server, with the local model as fallback
//   projectile --help
//
// Exit status: 0 when the surrogate trajectory is within --tolerance of the
// reference, 1 when it is not, 2 for usage or model errors.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "maas/core/predictor.h"
#include "maas/local/model_file.h"
#if MAAS_PROJECTILE_REMOTE
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#include "maas/resilient_model.h"
#endif
#include "projectile/drag_cd_model.h"  // generated: kDragCdModelJson
#include "projectile/physics.h"
#include "projectile/surrogate_drag.h"

namespace {

// The compile-time architecture of the drag model: log10(Re) -> 12 tanh ->
// 12 tanh -> log10(Cd). A --model file must have the same layers.
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

struct Options {
  std::string model_path;   // empty: the embedded model
  std::string csv_path;     // empty: no CSV
  std::string remote_url;   // empty: run the model in-process
  std::string remote_model = "drag_cd";
  std::string protocol = "v2";
  std::string fallback = "none";   // "local": the local model serves when the server cannot
  double call_deadline_ms = 250;   // per-call deadline with --fallback local
  double breaker_open_ms = 1000;   // circuit breaker's first open period
  double step_delay_ms = 0;        // simulated work per time step
  double progress_every = 0;       // print "progress: step N" every N steps
  double speed = 90.0;      // m/s
  double angle_deg = 30.0;  // above the horizon
  double dt = 1.0e-3;       // s
  std::size_t max_steps = 1000000;
  double tolerance = 1e-3;  // max position error / range for PASS
  projectile::Params params;
  bool help = false;
};

constexpr absl::string_view kUsage =
    "usage: projectile [options]\n"
    "  --model PATH      maas model file log10(Re) -> log10(Cd) (default: embedded)\n"
    "  --csv PATH        write t,x,y,vx,vy,re,cd for surrogate and reference\n"
    "  --remote URL      run the drag model on an inference server at URL\n"
    "  --remote-model M  the model's name on the server (default drag_cd)\n"
    "  --protocol P      v2 (KServe V2 JSON), v2-binary or v1 (TF Serving)\n"
    "  --fallback MODE   none, or local: with --remote, the local model (embedded or\n"
    "                    --model) answers when the server cannot, behind the same\n"
    "                    Predictor (retries, circuit breaker, NaN guard); prints\n"
    "                    which backend served which steps\n"
    "  --call-deadline-ms MS  per-call deadline with --fallback local (default 250)\n"
    "  --breaker-open-ms MS   first open period of the circuit breaker (default 1000)\n"
    "  --step-delay-ms MS     simulated work per time step (default 0)\n"
    "  --progress N      print 'progress: step K' every N steps (default: never)\n"
    "  --speed M_PER_S   launch speed (default 90)\n"
    "  --angle DEG       launch angle above the horizon (default 30)\n"
    "  --dt S            time step (default 0.001)\n"
    "  --max-steps N     step limit (default 1000000)\n"
    "  --diameter M      sphere diameter (default 0.006)\n"
    "  --mass KG         sphere mass (default 0.00025)\n"
    "  --tolerance F     PASS if max position error <= F * range (default 0.001)\n";

absl::StatusOr<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    if (kUsage.find(absl::StrCat("  ", arg, " ")) == absl::string_view::npos ||
        arg.rfind("--", 0) != 0) {
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
        s = absl::InvalidArgumentError(absl::StrCat(
            "option --protocol: expected v2, v2-binary or v1, got '", value, "'"));
      }
      o.protocol = value;
    } else if (arg == "--fallback") {
      if (value != "none" && value != "local") {
        return absl::InvalidArgumentError(
            absl::StrCat("option --fallback: expected none or local, got '", value, "'"));
      }
      o.fallback = value;
    } else if (arg == "--call-deadline-ms") {
      s = positive(&o.call_deadline_ms);
    } else if (arg == "--breaker-open-ms") {
      s = positive(&o.breaker_open_ms);
    } else if (arg == "--step-delay-ms") {
      if (!numeric || number < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "option --step-delay-ms: expected a number >= 0, got '", value, "'"));
      }
      o.step_delay_ms = number;
    } else if (arg == "--progress") {
      s = positive(&o.progress_every);
    } else if (arg == "--speed") {
      s = positive(&o.speed);
    } else if (arg == "--angle") {
      if (!numeric || number <= 0 || number >= 90) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --angle: expected degrees in (0, 90), got '", value, "'"));
      }
      o.angle_deg = number;
    } else if (arg == "--dt") {
      s = positive(&o.dt);
    } else if (arg == "--max-steps") {
      if (!absl::SimpleAtoi(value, &o.max_steps) || o.max_steps == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --max-steps: expected a positive integer, got '", value, "'"));
      }
    } else if (arg == "--diameter") {
      s = positive(&o.params.diameter);
    } else if (arg == "--mass") {
      s = positive(&o.params.mass);
    } else if (arg == "--tolerance") {
      s = positive(&o.tolerance);
    }
    if (!s.ok()) return s;
  }
  return o;
}

// MakePredictor()
//
// The one place that decides where the drag model runs: the local
// compile-time network, from --model or from the model embedded in the
// binary, or (--remote) a model on an inference server. Nothing else in the
// program changes.
absl::StatusOr<std::unique_ptr<maas::Predictor>> MakeLocal(const Options& o) {
  absl::StatusOr<std::unique_ptr<maas::LocalModel<DragNet>>> model =
      o.model_path.empty()
          ? maas::LoadLocalModelFromText<DragNet>(
                absl::string_view(projectile::kDragCdModelJson.data(),
                                  projectile::kDragCdModelJson.size()),
                "<embedded drag_cd.json>")
          : maas::LoadLocalModel<DragNet>(o.model_path);
  if (!model.ok()) return model.status();
  return std::unique_ptr<maas::Predictor>(std::move(*model));
}

absl::StatusOr<std::unique_ptr<maas::Predictor>> MakePredictor(const Options& o) {
  if (!o.remote_url.empty()) {
#if MAAS_PROJECTILE_REMOTE
    maas::RemoteModelOptions remote;
    remote.model = o.remote_model;
    remote.protocol = o.protocol == "v1" ? maas::RemoteProtocol::kTfServingV1
                                         : maas::RemoteProtocol::kKServeV2;
    remote.binary = o.protocol == "v2-binary";
    if (o.fallback == "local") {
      // The remote model with the local one as its fallback: one Predictor.
      absl::StatusOr<std::unique_ptr<maas::Predictor>> local = MakeLocal(o);
      if (!local.ok()) return local.status();
      maas::ResilientOptions ro;
      ro.remote = remote;
      ro.fallback.default_timeout = absl::Milliseconds(o.call_deadline_ms);
      ro.breaker.open_duration = absl::Milliseconds(o.breaker_open_ms);
      return maas::ConnectWithFallback(o.remote_url, o.remote_model, *std::move(local), ro);
    }
    absl::StatusOr<std::unique_ptr<maas::RemoteModel>> model =
        maas::ConnectRemoteModel(o.remote_url, remote);
    if (!model.ok()) return model.status();
    return std::unique_ptr<maas::Predictor>(std::move(*model));
#else
    return absl::UnimplementedError("--remote needs maas::http (MAAS_BUILD_HTTP=ON)");
#endif
  }
  if (o.fallback != "none") {
    return absl::InvalidArgumentError("--fallback needs --remote (the local model is the fallback)");
  }
  return MakeLocal(o);
}

absl::Status WriteCsv(const std::string& path, const projectile::Trajectory& a,
                      const projectile::Trajectory& b) {
  std::ofstream out(path);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write CSV '", path, "'"));
  out << "t,x,y,vx,vy,re,cd,x_ref,y_ref,vx_ref,vy_ref,re_ref,cd_ref\n";
  const std::size_t rows = std::max(a.samples.size(), b.samples.size());
  auto cells = [&out](const projectile::Trajectory& tr, std::size_t i) {
    if (i >= tr.samples.size()) {
      out << ",,,,,";
      return;
    }
    const projectile::Sample& s = tr.samples[i];
    out << absl::StrFormat("%.9g,%.9g,%.9g,%.9g,%.9g,%.9g", s.s.x, s.s.y, s.s.vx,
                           s.s.vy, s.re, s.cd);
  };
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& longer = a.samples.size() >= b.samples.size() ? a : b;
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
    std::cerr << "projectile: " << predictor.status() << "\n";
    return 2;
  }
  absl::StatusOr<projectile::SurrogateDrag> surrogate =
      projectile::SurrogateDrag::Create(**predictor);
  if (!surrogate.ok()) {
    std::cerr << "projectile: " << surrogate.status() << "\n";
    return 2;
  }
  auto reference = [](double re) -> absl::StatusOr<double> {
    return projectile::CliftGauvinCd(re);
  };
  if (o.fallback == "local") surrogate->TrackBackends(absl::Milliseconds(o.call_deadline_ms));
  // The drag law the integrator calls (4 times per RK4 step): the surrogate,
  // plus the simulated work of a step and progress lines, when asked.
  std::int64_t law_calls = 0;
  auto law = [&](double re) -> absl::StatusOr<double> {
    if (law_calls % 4 == 0) {
      const std::int64_t step = law_calls / 4;
      if (o.progress_every > 0 && step % static_cast<std::int64_t>(o.progress_every) == 0) {
        std::cout << "progress: step " << step << std::endl;
      }
      if (o.step_delay_ms > 0) absl::SleepFor(absl::Milliseconds(o.step_delay_ms));
    }
    ++law_calls;
    return (*surrogate)(re);
  };

  const double angle = o.angle_deg * projectile::kPi / 180.0;
  const projectile::State launch{0.0, 0.0, o.speed * std::cos(angle), o.speed * std::sin(angle)};
  const auto flight_start = std::chrono::steady_clock::now();
  absl::StatusOr<projectile::Trajectory> got =
      projectile::Fly(o.params, launch, o.dt, o.max_steps, law);
  const std::chrono::duration<double, std::nano> flight_ns =
      std::chrono::steady_clock::now() - flight_start;
  absl::StatusOr<projectile::Trajectory> ref =
      projectile::Fly(o.params, launch, o.dt, o.max_steps, reference);
  for (const auto* t : {&got, &ref}) {
    if (!t->ok()) {
      std::cerr << "projectile: integration failed: " << t->status() << "\n";
      return 2;
    }
  }
  if (!got->landed || !ref->landed) {
    std::cerr << "projectile: the sphere did not land within " << o.max_steps
              << " steps; raise --max-steps or --dt\n";
    return 2;
  }
  if (!o.csv_path.empty()) {
    if (absl::Status s = WriteCsv(o.csv_path, *got, *ref); !s.ok()) {
      std::cerr << "projectile: " << s << "\n";
      return 2;
    }
  }

  const projectile::Comparison c = projectile::Compare(*got, *ref);
  const bool pass = c.relative_position_error() <= o.tolerance;
  const auto& p = o.params;
  absl::PrintF("maas projectile example: %.1f mm, %.2f g sphere in air, launched at %.1f m/s, %.1f deg\n",
               p.diameter * 1e3, p.mass * 1e3, o.speed, o.angle_deg);
  absl::PrintF("drag model: '%s' version '%s' (%s), %s -> %s, via maas::Predictor\n",
               surrogate->model_name(), surrogate->model_version(),
               !o.remote_url.empty() ? absl::StrCat(o.remote_url, " ", o.protocol)
               : o.model_path.empty() ? std::string("embedded") : o.model_path,
               surrogate->input_name(),
               surrogate->output_name());
  absl::PrintF("reference: Clift-Gauvin correlation; integrator: RK4, dt = %g s, %d steps, flight time %.3f s\n",
               o.dt, static_cast<int>(got->samples.size() - 1), ref->landing_t);
  absl::PrintF("Reynolds number along the flight: %.3g .. %.3g\n", got->min_re, got->max_re);
  absl::PrintF("range:  surrogate %.4f m, reference %.4f m, landing error %.4f m (%.4f%% of range)\n",
               got->landing_x, ref->landing_x, c.landing_error, 100 * c.relative_landing_error());
  absl::PrintF("apex:   surrogate %.4f m, reference %.4f m, error %.4f m (%.4f%% of apex)\n",
               got->apex_y, ref->apex_y, c.apex_error, 100 * c.apex_error / c.ref_apex);
  absl::PrintF("max position error along the flight: %.4f m at t = %.3f s (%.4f%% of range)\n",
               c.max_position_error, c.max_error_t, 100 * c.relative_position_error());
  // The cost of a call: for a local model, the flight's calls replayed in
  // one timed loop (no clock read per call); for a remote one, the flight's
  // wall time per call (the network dominates).
  const double per_call_flight = flight_ns.count() / static_cast<double>(surrogate->calls());
  const char* flight_extra = o.step_delay_ms > 0 ? " and --step-delay-ms" : "";
  if (o.remote_url.empty()) {
    absl::StatusOr<double> replay = surrogate->ReplayNsPerCall(5);
    if (!replay.ok()) {
      std::cerr << "projectile: " << replay.status() << "\n";
      return 2;
    }
    absl::PrintF("predict calls: %d, mean %.0f ns per call (Predictor::Predict: the flight's calls "
                 "replayed in one timed loop, median of 5); the flight: %.0f ns per drag-law call, "
                 "integrator%s included\n",
                 surrogate->calls(), *replay, per_call_flight, flight_extra);
  } else {
    absl::PrintF("predict calls: %d, mean %.0f ns per call (the flight's wall time per drag-law "
                 "call, integrator%s included)\n",
                 surrogate->calls(), per_call_flight, flight_extra);
  }
  if (o.fallback == "local") {
    // Which backend served which time steps (4 calls per RK4 step).
    for (const projectile::SurrogateDrag::Segment& seg : surrogate->timeline()) {
      absl::PrintF("served: steps %d-%d by %s%s\n", (seg.first - 1) / 4, (seg.last - 1) / 4,
                   seg.backend,
                   seg.reason.empty() ? std::string() : absl::StrCat(" (fallback: ", seg.reason, ")"));
    }
  }
  if (!o.csv_path.empty()) absl::PrintF("trajectory CSV: %s\n", o.csv_path);
  absl::PrintF("result: %s (max position error %.4f%% of range, tolerance %g%%)\n",
               pass ? "PASS" : "FAIL", 100 * c.relative_position_error(), 100 * o.tolerance);
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Options> options = ParseArgs(argc, argv);
  if (!options.ok()) {
    std::cerr << "projectile: " << options.status().message() << "\n";
    return 2;
  }
  if (options->help) {
    std::cout << kUsage;
    return 0;
  }
  return Run(*options);
}
