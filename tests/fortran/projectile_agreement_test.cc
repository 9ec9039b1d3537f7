// The Fortran projectile example (examples/fortran/projectile.f90, the drag
// model through the Fortran module -> C API -> run-time network) against the
// C++ one (examples/projectile: physics.h's integrator, SurrogateDrag over
// the compile-time LocalModel<DragNet> from the same model file): every
// sample of the two trajectories must agree to 1e-12 (positions relative to
// the range, velocities relative to the launch speed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "projectile/physics.h"
#include "projectile/surrogate_drag.h"

namespace {

using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

TEST_CASE("fortran projectile: trajectory equals the C++ example's to 1e-12") {
  const std::string out = std::string(MAAS_TEST_BINARY_DIR) + "/fortran_projectile.txt";
  std::remove(out.c_str());
  const std::string cmd = std::string("\"") + MAAS_FORTRAN_PROJECTILE + "\" \"" +
                          MAAS_DRAG_MODEL_FILE + "\" \"" + out + "\"";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);

  std::vector<projectile::State> fortran;
  std::vector<double> times;
  std::ifstream in(out);
  double t, x, y, vx, vy;
  while (in >> t >> x >> y >> vx >> vy) {
    times.push_back(t);
    fortran.push_back({x, y, vx, vy});
  }
  REQUIRE(fortran.size() > 1000);

  // The C++ example's flight: same launch, same dt (main.cc defaults).
  auto model = maas::LoadLocalModel<DragNet>(MAAS_DRAG_MODEL_FILE);
  REQUIRE_MESSAGE(model.ok(), model.status().ToString());
  auto drag = projectile::SurrogateDrag::Create(**model);
  REQUIRE(drag.ok());
  const double speed = 90.0, angle = 30.0 * projectile::kPi / 180.0;
  const projectile::State launch{0.0, 0.0, speed * std::cos(angle), speed * std::sin(angle)};
  auto cpp = projectile::Fly(projectile::Params{}, launch, 1.0e-3, 1000000, *drag);
  REQUIRE(cpp.ok());
  REQUIRE(cpp->landed);
  REQUIRE(cpp->samples.size() == fortran.size());

  double pos = 0, vel = 0;
  for (std::size_t i = 0; i < fortran.size(); ++i) {
    const projectile::State& a = cpp->samples[i].s;
    const projectile::State& b = fortran[i];
    pos = std::max({pos, std::abs(a.x - b.x), std::abs(a.y - b.y)});
    vel = std::max({vel, std::abs(a.vx - b.vx), std::abs(a.vy - b.vy)});
    CHECK(std::abs(times[i] - cpp->samples[i].t) <= 1e-12);
  }
  const double range = cpp->landing_x;
  std::printf("fortran vs C++ projectile: %zu samples, range %.6f m; max |dpos| = %.3g m "
              "(%.3g of range), max |dvel| = %.3g m/s (%.3g of launch speed)\n",
              fortran.size(), range, pos, pos / range, vel, vel / speed);
  CHECK(pos / range <= 1e-12);
  CHECK(vel / speed <= 1e-12);
}

}  // namespace
