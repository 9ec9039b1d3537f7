// FallbackPredictor on scripted predictors: when it falls back and when it
// must not, the report, outputs written only by the side that served,
// signature checks at construction and later, FP32/FP64 conversion, names
// matched by position or by a map, and the shared deadline.
#include "maas/resilience/fallback.h"

#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

namespace {

using maas::DataType;
using maas_test::ScriptedPredictor;

struct Rig {
  ScriptedPredictor* remote = nullptr;
  ScriptedPredictor* local = nullptr;
  std::unique_ptr<maas::FallbackPredictor> chain;

  explicit Rig(maas::FallbackOptions o = {}, DataType remote_type = DataType::kFloat32,
               DataType local_type = DataType::kFloat32, absl::Status remote_sig = absl::OkStatus()) {
    auto r = std::make_unique<ScriptedPredictor>("remote", remote_type, 100.0);
    auto l = std::make_unique<ScriptedPredictor>("local", local_type, 200.0);
    remote = r.get();
    local = l.get();
    remote->SetSignatureStatus(remote_sig);
    auto c = maas::FallbackPredictor::Create(std::move(r), std::move(l), o);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    chain = *std::move(c);
  }
  template <typename T>
  absl::Status Call(std::array<T, 3>* y, maas::CallReport* report = nullptr,
                    maas::CallOptions o = {}, std::string in_name = "x",
                    std::string out_name = "y") {
    static thread_local std::array<T, 2> x;
    x = {T(0.5), T(0)};
    return static_cast<maas::Predictor&>(*chain).Predict(
        {maas::ConstTensorView(in_name, absl::MakeConstSpan(x), {1, 2})},
        {maas::TensorView(out_name, absl::MakeSpan(*y), {1, 3})}, o, report);
  }
};

}  // namespace

TEST_SUITE("FallbackPredictor") {

TEST_CASE("a healthy primary serves; the fallback is not called") {
  Rig rig;
  std::array<float, 3> y{};
  maas::CallReport r;
  REQUIRE(rig.Call(&y, &r).ok());
  CHECK(y[0] == doctest::Approx(100.5));
  CHECK(r.served_by == "remote");
  CHECK_FALSE(r.fell_back);
  CHECK(rig.local->calls() == 0);
}

TEST_CASE("server-side failures fall back: the fallback's answer, the report names it and why") {
  for (absl::Status failure :
       {absl::UnavailableError("down"), absl::DeadlineExceededError("slow"),
        maas_test::HttpFailure(absl::StatusCode::kResourceExhausted, 429),
        maas::CircuitOpenError("open"), absl::DataLossError("NaN in reply")}) {
    CAPTURE(failure);
    Rig rig;
    rig.remote->Default(failure);
    std::array<float, 3> y = {-7, -7, -7};
    maas::CallReport r;
    REQUIRE(rig.Call(&y, &r).ok());
    CHECK(y[0] == doctest::Approx(200.5));
    CHECK(r.served_by == "local");
    CHECK(r.fell_back);
    CHECK(r.primary_status.code() == failure.code());
    CHECK(rig.local->calls() == 1);
  }
}

TEST_CASE("caller errors and (by default) HTTP 500 do not fall back; on_data_loss can be switched off") {
  for (absl::Status failure : {absl::InvalidArgumentError("bad"), absl::NotFoundError("no model"),
                               absl::InternalError("HTTP 500"), absl::UnauthenticatedError("no")}) {
    CAPTURE(failure);
    Rig rig;
    rig.remote->Default(failure);
    std::array<float, 3> y = {-7, -7, -7};
    CHECK(rig.Call(&y).code() == failure.code());
    CHECK(y[0] == -7);
    CHECK(rig.local->calls() == 0);
  }
  maas::FallbackOptions o;
  o.on_data_loss = false;
  o.on_internal = true;
  Rig rig(o);
  rig.remote->Default(absl::DataLossError("garbage"));
  std::array<float, 3> y = {-7, -7, -7};
  CHECK(rig.Call(&y).code() == absl::StatusCode::kDataLoss);
  rig.remote->Default(absl::InternalError("HTTP 500"));
  CHECK(rig.Call(&y).ok());
}

TEST_CASE("when both fail, the outputs are untouched and the fallback's status is returned") {
  Rig rig;
  rig.remote->Default(absl::UnavailableError("down"));
  rig.local->Default(absl::InternalError("local broke"));
  std::array<float, 3> y = {-7, -7, -7};
  maas::CallReport r;
  CHECK(rig.Call(&y, &r).code() == absl::StatusCode::kInternal);
  CHECK(y[0] == -7);
  CHECK(r.fell_back);
  CHECK(r.primary_status.code() == absl::StatusCode::kUnavailable);
  CHECK(r.served_by.empty());
}

TEST_CASE("incompatible signatures fail Create with a message naming the tensor") {
  auto make = [](maas::ModelSignature local_sig, maas::FallbackOptions o = {}) {
    auto r = std::make_unique<ScriptedPredictor>("remote");
    auto l = std::make_unique<ScriptedPredictor>("local");
    l->SetSignature(std::move(local_sig));
    return maas::FallbackPredictor::Create(std::move(r), std::move(l), o).status();
  };
  maas::ModelSignature wide;
  wide.inputs = {{"x", DataType::kFloat32, {maas::kDynamic, 4}}};
  wide.outputs = {{"y", DataType::kFloat32, {maas::kDynamic, 3}}};
  absl::Status s = make(wide);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(s.message(), "input 'x'"));
  CHECK(absl::StrContains(s.message(), "[-1,4]"));
  maas::ModelSignature two_out = wide;
  two_out.inputs[0].shape = {maas::kDynamic, 2};
  two_out.outputs.push_back({"z", DataType::kFloat32, {maas::kDynamic, 1}});
  CHECK(make(two_out).code() == absl::StatusCode::kFailedPrecondition);
  maas::ModelSignature ints = wide;
  ints.inputs[0] = {"x", DataType::kInt64, {maas::kDynamic, 2}};
  CHECK(make(ints).code() == absl::StatusCode::kFailedPrecondition);
  maas::ModelSignature doubles = wide;
  doubles.inputs[0] = {"x", DataType::kFloat64, {maas::kDynamic, 2}};
  doubles.outputs[0] = {"y", DataType::kFloat64, {maas::kDynamic, 3}};
  maas::FallbackOptions refuse;
  refuse.dtype_policy = maas::FallbackOptions::DtypePolicy::kRefuse;
  s = make(doubles, refuse);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(s.message(), "conversion is refused"));
  CHECK(make(doubles).ok());  // converted by default
}

TEST_CASE("an FP32 primary with an FP64 fallback: the fallback's answer is converted") {
  Rig rig({}, DataType::kFloat32, DataType::kFloat64);
  rig.remote->Default(absl::UnavailableError("down"));
  std::array<float, 3> y = {-7, -7, -7};
  maas::CallReport r;
  REQUIRE(rig.Call(&y, &r).ok());
  CHECK(y[2] == doctest::Approx(200.5));
  CHECK(r.served_by == "local");
  // The fallback failing after conversion leaves the caller's floats alone.
  rig.local->Default(absl::InternalError("x"));
  y = {-7, -7, -7};
  CHECK_FALSE(rig.Call(&y).ok());
  CHECK(y[0] == -7);
}

TEST_CASE("an FP64 primary with an FP32 fallback, caller in FP64") {
  Rig rig({}, DataType::kFloat64, DataType::kFloat32);
  std::array<double, 3> y{};
  REQUIRE(rig.Call(&y).ok());
  CHECK(y[1] == doctest::Approx(100.5));
  rig.remote->Default(absl::UnavailableError("down"));
  REQUIRE(rig.Call(&y).ok());
  CHECK(y[1] == doctest::Approx(200.5));
}

TEST_CASE("names: either backend's, none (by position), or through name_map") {
  maas::ModelSignature sig;
  sig.inputs = {{"input__0", DataType::kFloat32, {maas::kDynamic, 2}}};
  sig.outputs = {{"output__0", DataType::kFloat32, {maas::kDynamic, 3}}};
  auto r = std::make_unique<ScriptedPredictor>("remote", DataType::kFloat32, 100.0);
  r->SetSignature(sig);
  ScriptedPredictor* remote = r.get();
  auto l = std::make_unique<ScriptedPredictor>("local", DataType::kFloat32, 200.0);
  auto c = maas::FallbackPredictor::Create(std::move(r), std::move(l));
  REQUIRE(c.ok());
  maas::Predictor& chain = **c;
  std::array<float, 2> x = {0.5f, 0};
  std::array<float, 3> y{};
  for (auto names : {std::pair<const char*, const char*>{"input__0", "output__0"},
                     {"x", "y"}, {"", ""}}) {
    CAPTURE(names.first);
    REQUIRE(chain.Predict({maas::ConstTensorView(names.first, absl::MakeConstSpan(x), {1, 2})},
                          {maas::TensorView(names.second, absl::MakeSpan(y), {1, 3})})
                .ok());
    CHECK(y[0] == doctest::Approx(100.5));
  }
  remote->Default(absl::UnavailableError("down"));
  REQUIRE(chain.Predict({maas::ConstTensorView("input__0", absl::MakeConstSpan(x), {1, 2})},
                        {maas::TensorView("output__0", absl::MakeSpan(y), {1, 3})})
              .ok());
  CHECK(y[0] == doctest::Approx(200.5));
  CHECK(chain.Predict({maas::ConstTensorView("nope", absl::MakeConstSpan(x), {1, 2})},
                      {maas::TensorView("y", absl::MakeSpan(y), {1, 3})})
            .code() == absl::StatusCode::kInvalidArgument);
  maas::FallbackOptions o;
  o.name_map = {{"input__0", "missing"}};
  auto r2 = std::make_unique<ScriptedPredictor>("remote");
  r2->SetSignature(sig);
  CHECK(maas::FallbackPredictor::Create(std::move(r2), std::make_unique<ScriptedPredictor>("local"), o)
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a server down at construction: checked later; a mismatch then stops the primary, the fallback serves") {
  Rig rig({}, DataType::kFloat32, DataType::kFloat32, absl::UnavailableError("down"));
  rig.remote->Default(absl::UnavailableError("down"));
  std::array<float, 3> y{};
  maas::CallReport r;
  REQUIRE(rig.Call(&y, &r).ok());
  CHECK(r.served_by == "local");
  // The server comes back serving another model (4 inputs per row).
  maas::ModelSignature other;
  other.inputs = {{"x", DataType::kFloat32, {maas::kDynamic, 4}}};
  other.outputs = {{"y", DataType::kFloat32, {maas::kDynamic, 3}}};
  rig.remote->SetSignature(other);
  rig.remote->SetSignatureStatus(absl::OkStatus());
  rig.remote->Default(absl::OkStatus());
  (void)rig.Call(&y, &r);  // served by the remote (it accepted), then checked
  REQUIRE(rig.Call(&y, &r).ok());
  CHECK(r.served_by == "local");
  CHECK(r.primary_status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(rig.chain->primary_disabled().code() == absl::StatusCode::kFailedPrecondition);
  // A compatible server coming back is bound and used.
  Rig ok_rig({}, DataType::kFloat32, DataType::kFloat32, absl::UnavailableError("down"));
  ok_rig.remote->SetSignatureStatus(absl::OkStatus());
  REQUIRE(ok_rig.Call(&y, &r).ok());
  CHECK(r.served_by == "remote");
  REQUIRE(ok_rig.Call(&y, &r).ok());
  CHECK(r.served_by == "remote");
}

TEST_CASE("a primary that is not merely unreachable fails Create") {
  auto r = std::make_unique<ScriptedPredictor>("remote");
  r->SetSignatureStatus(absl::NotFoundError("no model 'drag'"));
  CHECK(maas::FallbackPredictor::Create(std::move(r), std::make_unique<ScriptedPredictor>("local"))
            .status()
            .code() == absl::StatusCode::kNotFound);
}

TEST_CASE("the deadline is shared: the primary gets it minus the reserve, the fallback the rest") {
  maas::FallbackOptions o;
  o.fallback_reserve = absl::Milliseconds(5);
  o.default_timeout = absl::Seconds(3);
  Rig rig(o);
  rig.remote->Default(absl::DeadlineExceededError("slow"));
  std::array<float, 3> y{};
  const absl::Time t0 = absl::Now();
  REQUIRE(rig.Call(&y, nullptr, maas::CallOptions::Timeout(absl::Seconds(1), t0)).ok());
  CHECK(rig.remote->deadlines()[0] == t0 + absl::Seconds(1) - absl::Milliseconds(5));
  CHECK(rig.local->deadlines()[0] == t0 + absl::Seconds(1));
  // No deadline from the caller: default_timeout applies.
  const absl::Time t1 = absl::Now();
  REQUIRE(rig.Call(&y).ok());
  const absl::Time d = rig.local->deadlines()[1];
  CHECK(d >= t1 + absl::Seconds(3));
  CHECK(d <= absl::Now() + absl::Seconds(3));
}

TEST_CASE("stats count calls by side and fallbacks by reason") {
  Rig rig;
  std::array<float, 3> y{};
  REQUIRE(rig.Call(&y).ok());
  rig.remote->Script({absl::UnavailableError("a"), maas::CircuitOpenError("b"),
                      absl::DeadlineExceededError("c")});
  for (int i = 0; i < 3; ++i) REQUIRE(rig.Call(&y).ok());
  const maas::FallbackStats s = rig.chain->stats();
  CHECK(s.calls == 4);
  CHECK(s.primary_served == 1);
  CHECK(s.fallback_served == 3);
  CHECK(s.fallback_circuit_open == 1);
  CHECK(s.fallback_by_code[static_cast<int>(absl::StatusCode::kUnavailable)] == 1);
  CHECK(s.fallback_by_code[static_cast<int>(absl::StatusCode::kDeadlineExceeded)] == 1);
}

}  // TEST_SUITE
