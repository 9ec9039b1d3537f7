// Settling spheres under MPI, with a learned drag law per rank.
//
// A column of `--cells` cells, each holding one water droplet falling through
// air, launched downwards at 0.5 m/s, with a different diameter per cell. Every time step each cell needs
// the drag coefficient Cd(Re) of its sphere, which comes from the learned
// surrogate (examples/data/drag_cd.json) behind maas::Predictor.
//
// Domain decomposition: the cells are split into contiguous blocks, one per
// rank (block sizes differ by at most one). Each rank loads its OWN predictor
// once, before the time loop (a local compile-time network, or with
// --remote a model on an inference server), and predicts for all its cells
// in one batched call per step. At the end the velocities are gathered on
// rank 0, which integrates the whole column again serially with a predictor
// of its own and checks that the two agree.
//
//   mpirun -np 2 maas_mpi_settling [--cells N] [--steps S] [--remote URL]
//
// maas starts no threads: a local predict runs on the calling rank's thread,
// and the HTTP transport does blocking I/O on it too. So one rank per core
// (mpirun's default binding) is all the parallelism there is; see
// docs/packaging.md, "MPI".
//
// Exit status: 0 when the parallel and serial results agree to 1e-12
// (relative), 1 when they do not, 2 for usage, model or MPI errors.

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor_view.h"
#include "maas/local/model_file.h"
#if MAAS_MPI_EXAMPLE_REMOTE
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#endif
#include "projectile/drag_cd_model.h"  // generated: kDragCdModelJson
#include "projectile/physics.h"

namespace {

// The compile-time architecture of the drag model (as in the projectile
// example): log10(Re) -> 12 tanh -> 12 tanh -> log10(Cd).
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

struct Options {
  std::int64_t cells = 20000;
  int steps = 200;
  double dt = 1e-3;  // s
  std::string remote_url;
  std::string remote_model = "drag_cd";
};

// MakePredictor()
//
// Each rank calls this once: its own predictor, never shared between ranks.
absl::StatusOr<std::unique_ptr<maas::Predictor>> MakePredictor(const Options& o) {
  if (!o.remote_url.empty()) {
#if MAAS_MPI_EXAMPLE_REMOTE
    maas::RemoteModelOptions remote;
    remote.model = o.remote_model;
    auto model = maas::ConnectRemoteModel(o.remote_url, remote);
    if (!model.ok()) return model.status();
    return std::unique_ptr<maas::Predictor>(*std::move(model));
#else
    return absl::UnimplementedError("--remote needs maas::http (MAAS_BUILD_HTTP=ON)");
#endif
  }
  auto model = maas::LoadLocalModelFromText<DragNet>(
      absl::string_view(projectile::kDragCdModelJson.data(),
                        projectile::kDragCdModelJson.size()),
      "<embedded drag_cd.json>");
  if (!model.ok()) return model.status();
  return std::unique_ptr<maas::Predictor>(*std::move(model));
}

// The sphere diameter of global cell i: 0.2 mm .. 3 mm across the column.
double Diameter(std::int64_t i, std::int64_t cells) {
  return 0.2e-3 + 2.8e-3 * static_cast<double>(i) / static_cast<double>(std::max<std::int64_t>(cells - 1, 1));
}

// Settle()
//
// Integrates the cells [first, first + n) of the column for `steps` explicit
// Euler steps: dv/dt = g - k(v) v^2 with Cd from `model`, one batched predict
// per step over all n cells. Returns the final velocities (m/s, downwards).
absl::StatusOr<std::vector<double>> Settle(maas::Predictor& model, const Options& o,
                                           std::int64_t first, std::int64_t n,
                                           double* predict_seconds) {
  projectile::Params p;
  const double rho_sphere = 1000.0;  // kg/m^3: water droplets
  std::vector<double> v(static_cast<std::size_t>(n), 0.5), x(v.size()), y(v.size());
  std::vector<double> mass(v.size()), area(v.size()), diameter(v.size());
  for (std::int64_t c = 0; c < n; ++c) {
    const double d = Diameter(first + c, o.cells);
    diameter[c] = d;
    area[c] = 0.25 * projectile::kPi * d * d;
    mass[c] = rho_sphere * projectile::kPi * d * d * d / 6.0;
  }
  *predict_seconds = 0;
  for (int s = 0; s < o.steps; ++s) {
    // Re > 0 always: the speed is floored at 1 mm/s.
    for (std::int64_t c = 0; c < n; ++c) {
      const double speed = std::max(v[c], 1e-3);
      x[c] = std::log10(p.density * speed * diameter[c] / p.viscosity);
    }
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status st = model.Predict(
        {maas::ConstTensorView("log10_re", absl::MakeConstSpan(x), {n, 1})},
        {maas::TensorView("log10_cd", absl::MakeSpan(y), {n, 1})});
    *predict_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) return st;
    for (std::int64_t c = 0; c < n; ++c) {
      const double cd = std::pow(10.0, y[c]);
      const double drag = 0.5 * p.density * v[c] * v[c] * area[c] * cd / mass[c];
      v[c] += o.dt * (p.gravity - drag);
    }
  }
  return v;
}

absl::StatusOr<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("option ", arg, " needs a value"));
    const std::string value = argv[++i];
    if (arg == "--cells") {
      if (!absl::SimpleAtoi(value, &o.cells) || o.cells < 1) {
        return absl::InvalidArgumentError("--cells: expected a positive integer");
      }
    } else if (arg == "--steps") {
      if (!absl::SimpleAtoi(value, &o.steps) || o.steps < 1) {
        return absl::InvalidArgumentError("--steps: expected a positive integer");
      }
    } else if (arg == "--remote") {
      o.remote_url = value;
    } else if (arg == "--remote-model") {
      o.remote_model = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown option ", arg,
          "\nusage: maas_mpi_settling [--cells N] [--steps S] [--remote URL [--remote-model M]]"));
    }
  }
  return o;
}

// Every rank reports its status; true on all ranks when all are OK.
bool AllOk(const absl::Status& s, int rank) {
  int ok = s.ok() ? 1 : 0, all = 0;
  if (!s.ok()) std::fprintf(stderr, "rank %d: %s\n", rank, s.ToString().c_str());
  MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

int Run(int rank, int size, int argc, char** argv) {
  absl::StatusOr<Options> o = ParseArgs(argc, argv);
  if (!AllOk(o.status(), rank)) return 2;

  // The decomposition: rank r owns [first, first + n).
  const std::int64_t base = o->cells / size, extra = o->cells % size;
  const std::int64_t n = base + (rank < extra ? 1 : 0);
  const std::int64_t first = rank * base + std::min<std::int64_t>(rank, extra);

  absl::StatusOr<std::unique_ptr<maas::Predictor>> model = MakePredictor(*o);
  if (!AllOk(model.status(), rank)) return 2;
  double predict_s = 0;
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<double>> mine = Settle(**model, *o, first, n, &predict_s);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!AllOk(mine.status(), rank)) return 2;

  // Gather the blocks on rank 0.
  std::vector<int> counts(size), displs(size);
  for (int r = 0; r < size; ++r) {
    counts[r] = static_cast<int>(base + (r < extra ? 1 : 0));
    displs[r] = static_cast<int>(r * base + std::min<std::int64_t>(r, extra));
  }
  std::vector<double> all(rank == 0 ? static_cast<std::size_t>(o->cells) : 0);
  MPI_Gatherv(mine->data(), static_cast<int>(n), MPI_DOUBLE, all.data(), counts.data(),
              displs.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  double times[2] = {wall, predict_s};
  std::vector<double> rank_times(rank == 0 ? 2 * size : 0);
  MPI_Gather(times, 2, MPI_DOUBLE, rank_times.data(), 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank != 0) return 0;

  std::printf("maas MPI example: %d ranks, %lld cells, %d steps, one predictor per rank (%s)\n",
              size, static_cast<long long>(o->cells), o->steps,
              o->remote_url.empty() ? "local network" : o->remote_url.c_str());
  for (int r = 0; r < size; ++r) {
    std::printf("rank %d: cells [%d, %d), %d batched predict calls, %.3f s (%.3f s in predict)\n",
                r, displs[r], displs[r] + counts[r], o->steps, rank_times[2 * r],
                rank_times[2 * r + 1]);
  }
  // The serial reference: the whole column on rank 0 with its own predictor.
  absl::StatusOr<std::unique_ptr<maas::Predictor>> serial_model = MakePredictor(*o);
  if (!serial_model.ok()) {
    std::fprintf(stderr, "serial run: %s\n", serial_model.status().ToString().c_str());
    return 2;
  }
  double serial_predict = 0;
  const auto t1 = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<double>> serial =
      Settle(**serial_model, *o, 0, o->cells, &serial_predict);
  const double serial_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  if (!serial.ok()) {
    std::fprintf(stderr, "serial run: %s\n", serial.status().ToString().c_str());
    return 2;
  }
  double max_rel = 0, vmin = (*serial)[0], vmax = (*serial)[0];
  for (std::size_t i = 0; i < all.size(); ++i) {
    max_rel = std::max(max_rel, std::abs(all[i] - (*serial)[i]) / std::abs((*serial)[i]));
    vmin = std::min(vmin, (*serial)[i]);
    vmax = std::max(vmax, (*serial)[i]);
  }
  const bool pass = max_rel <= 1e-12;
  std::printf("serial run on rank 0: %.3f s; velocities after %.3f s: %.4f .. %.4f m/s\n",
              serial_wall, o->steps * o->dt, vmin, vmax);
  std::printf("result: %s (max relative difference parallel vs serial %.3g, tolerance 1e-12)\n",
              pass ? "PASS" : "FAIL", max_rel);
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    std::fprintf(stderr, "MPI_Init failed\n");
    return 2;
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int rc = Run(rank, size, argc, argv);
  // Every rank returns the same status, so mpirun's exit status is the test's.
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
