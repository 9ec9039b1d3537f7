// The maas C API (include/maas/c/maas.h) over the C++ SDK.
//
// Every exported function catches everything: no exception crosses the C
// boundary. Each one records its outcome in a thread-local message (empty on
// success) and returns the absl status code as an int.

#include "maas/c/maas.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor_view.h"
// The run-time-sized network (issue 9's DynamicNetwork) gives the C API its
// local models; a tree without it builds the rest, and local loads are then
// MAAS_UNIMPLEMENTED.
#if __has_include("maas/local/dynamic_network.h")
#include "maas/local/dynamic_network.h"
#define MAAS_C_HAS_LOCAL 1
#else
#define MAAS_C_HAS_LOCAL 0
#endif
#include "maas/resilience/fallback.h"
#include "maas/version.h"
#include "src/c/maas_c_internal.h"
#if MAAS_C_HAS_HTTP
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#endif

// The handle: a predictor plus what predict needs from its signature,
// captured once at creation.
struct maas_model {
  std::unique_ptr<maas::Predictor> predictor;
  std::string input_name, output_name;
  std::int64_t input_size = 0, output_size = 0;
  bool is_double = false;
};

namespace maas_c {
namespace {

// The calling thread's last message. A success only clears the flag: the
// flag is trivially initialized, so the success path reaches no TLS wrapper
// and touches no string.
thread_local bool has_error = false;
thread_local std::string last_error;

void SetError(absl::string_view message) {
  has_error = true;
  last_error.assign(message.data(), message.size());
}

int Record(const absl::Status& s) {
  if (s.ok()) {
    has_error = false;
  } else {
    SetError(s.message());
  }
  return static_cast<int>(s.code());
}

// Runs `body` (returning absl::Status) and turns any exception into a status.
template <typename Body>
int Guard(Body&& body) noexcept {
  try {
    return Record(body());
  } catch (const std::bad_alloc&) {
    try {
      SetError("out of memory");
    } catch (...) {
      has_error = false;
    }
    return MAAS_RESOURCE_EXHAUSTED;
  } catch (const std::exception& e) {
    try {
      SetError(absl::StrCat("internal error: ", e.what()));
    } catch (...) {
      has_error = false;
    }
    return MAAS_INTERNAL;
  } catch (...) {
    try {
      SetError("internal error: unknown exception");
    } catch (...) {
      has_error = false;
    }
    return MAAS_INTERNAL;
  }
}

// The signature checks of the C API: one input, one output, FP32 or FP64,
// shape [-1, n] (or [b, n]: any batch then fails at predict with the
// predictor's own message), same datatype both sides.
absl::StatusOr<std::unique_ptr<maas_model>> Wrap(std::unique_ptr<maas::Predictor> p) {
  absl::StatusOr<maas::ModelSignature> sig = p->Signature();
  if (!sig.ok()) return sig.status();
  if (sig->inputs.size() != 1 || sig->outputs.size() != 1) {
    return absl::UnimplementedError(absl::StrCat(
        "model '", sig->name, "' has ", sig->inputs.size(), " inputs and ",
        sig->outputs.size(), " outputs; the C API drives models with one of each"));
  }
  const maas::TensorSpec& in = sig->inputs[0];
  const maas::TensorSpec& out = sig->outputs[0];
  for (const maas::TensorSpec* t : {&in, &out}) {
    if ((t->dtype != maas::DataType::kFloat32 && t->dtype != maas::DataType::kFloat64) ||
        t->shape.rank() != 2 || t->shape.dim(1) <= 0) {
      return absl::UnimplementedError(absl::StrCat(
          "model '", sig->name, "': tensor '", t->name, "' is ",
          maas::DataTypeName(t->dtype), t->shape.ToString(),
          "; the C API drives FP32 or FP64 tensors of shape [-1,n]"));
    }
  }
  if (in.dtype != out.dtype) {
    return absl::UnimplementedError(absl::StrCat(
        "model '", sig->name, "': input is ", maas::DataTypeName(in.dtype),
        " and output ", maas::DataTypeName(out.dtype),
        "; the C API drives models with one datatype"));
  }
  auto m = std::make_unique<maas_model>();
  m->predictor = std::move(p);
  m->input_name = in.name;
  m->output_name = out.name;
  m->input_size = in.shape.dim(1);
  m->output_size = out.shape.dim(1);
  m->is_double = in.dtype == maas::DataType::kFloat64;
  return m;
}

int Create(absl::StatusOr<std::unique_ptr<maas::Predictor>> (*make)(const void*),
           const void* args, maas_model** model) {
  if (model == nullptr) {
    return Record(absl::InvalidArgumentError("the maas_model** argument is null"));
  }
  *model = nullptr;
  return Guard([&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<maas::Predictor>> p = make(args);
    if (!p.ok()) return p.status();
    absl::StatusOr<std::unique_ptr<maas_model>> m = Wrap(*std::move(p));
    if (!m.ok()) return m.status();
    *model = m->release();
    return absl::OkStatus();
  });
}

// Calls the predictor with views of `x` and `y` in the model's type `M`.
template <typename M>
absl::Status Run(maas_model& m, const M* x, std::int64_t rows, M* y) {
  const auto nx = static_cast<std::size_t>(rows * m.input_size);
  const auto ny = static_cast<std::size_t>(rows * m.output_size);
  return m.predictor->Predict(
      {maas::ConstTensorView(m.input_name, absl::MakeConstSpan(x, nx),
                             {rows, m.input_size})},
      {maas::TensorView(m.output_name, absl::MakeSpan(y, ny), {rows, m.output_size})});
}

// predict for an array type `A`: directly when it is the model's type,
// through converted copies otherwise (y written only on success).
template <typename A>
int Predict(maas_model* m, const A* x, std::int64_t rows, std::int64_t x_cols, A* y,
            std::int64_t y_rows, std::int64_t y_cols) noexcept {
  return Guard([&]() -> absl::Status {
    if (m == nullptr) return absl::InvalidArgumentError("the model handle is null");
    if (rows < 0) {
      return absl::InvalidArgumentError(absl::StrCat("rows = ", rows, " is negative"));
    }
    if (y_rows != rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the input array has ", rows, " rows (samples) and the output array ", y_rows));
    }
    if (x_cols != m->input_size || y_cols != m->output_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model input '", m->input_name, "' has ", m->input_size,
          " values per row and output '", m->output_name, "' ", m->output_size,
          "; the arrays have ", x_cols, " and ", y_cols));
    }
    if (rows == 0) return absl::OkStatus();
    if (x == nullptr || y == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", x == nullptr ? "input" : "output", " array is null (rows = ", rows, ")"));
    }
    // rows * width must fit: checked without a division unless rows is huge.
    const std::int64_t widest = std::max(m->input_size, m->output_size);
    if (rows > (std::int64_t{1} << 31) &&
        rows > std::numeric_limits<std::int64_t>::max() / widest) {
      return absl::InvalidArgumentError(absl::StrCat("rows = ", rows, " overflows"));
    }
    const bool same = std::is_same_v<A, double> == m->is_double;
    if (same) return Run(*m, x, rows, y);
    using M = std::conditional_t<std::is_same_v<A, double>, float, double>;
    std::vector<M> xm(x, x + rows * m->input_size);
    std::vector<M> ym(static_cast<std::size_t>(rows * m->output_size));
    if (absl::Status s = Run(*m, xm.data(), rows, ym.data()); !s.ok()) return s;
    for (std::size_t i = 0; i < ym.size(); ++i) y[i] = static_cast<A>(ym[i]);
    return absl::OkStatus();
  });
}

int Size(const maas_model* m, std::int64_t* size, bool input) noexcept {
  if (m == nullptr || size == nullptr) {
    return Record(absl::InvalidArgumentError(
        m == nullptr ? "the model handle is null" : "the size pointer is null"));
  }
  *size = input ? m->input_size : m->output_size;
  return Record(absl::OkStatus());
}

// A Predictor that forwards every call to another one. `Borrowed` does not
// own it (FallbackPredictor::Create consumes its arguments even when it
// fails, and a failed maas_model_fallback must leave the caller's handles
// intact); `Chain` owns the chain and the two models it borrows from.
class Forwarding : public maas::Predictor {
 public:
  explicit Forwarding(maas::Predictor* target) : target_(target) {}
  absl::StatusOr<maas::ModelSignature> Signature() override { return target_->Signature(); }
  absl::string_view label() const override { return target_->label(); }

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView> inputs,
                         absl::Span<const maas::TensorView> outputs) override {
    return target_->Predict(inputs, outputs);
  }
  absl::Status DoPredictCall(absl::Span<const maas::ConstTensorView> inputs,
                             absl::Span<const maas::TensorView> outputs,
                             const maas::CallOptions& options,
                             maas::CallReport* report) override {
    return target_->Predict(inputs, outputs, options, report);
  }
  absl::StatusOr<std::vector<maas::Tensor>> DoPredictAllocating(
      absl::Span<const maas::ConstTensorView> inputs) override {
    return target_->Predict(inputs);
  }

 private:
  maas::Predictor* target_;
};

class Chain final : public Forwarding {
 public:
  explicit Chain(std::unique_ptr<maas::Predictor> chain)
      : Forwarding(chain.get()), chain_(std::move(chain)) {}

  // Takes the two models the chain borrows (once the chain's handle exists,
  // so that no failure can leave the caller's handles empty).
  void Adopt(std::unique_ptr<maas::Predictor> primary,
             std::unique_ptr<maas::Predictor> fallback) noexcept {
    primary_ = std::move(primary);
    fallback_ = std::move(fallback);
  }

 private:
  // Destroyed in reverse order: the chain (which borrows) before the models.
  std::unique_ptr<maas::Predictor> primary_, fallback_, chain_;
};

#if MAAS_C_HAS_HTTP
struct RemoteArgs {
  const char* url;
  const char* name;
  const char* protocol;
  double timeout_seconds;
};

absl::StatusOr<std::unique_ptr<maas::Predictor>> MakeRemote(const void* p) {
  const auto& a = *static_cast<const RemoteArgs*>(p);
  if (a.url == nullptr || a.name == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", a.url == nullptr ? "base URL" : "model name", " is null"));
  }
  maas::RemoteModelOptions options;
  options.model = a.name;
  const absl::string_view proto = a.protocol == nullptr ? "" : a.protocol;
  if (proto.empty() || proto == "v2") {
    options.protocol = maas::RemoteProtocol::kKServeV2;
  } else if (proto == "v2-binary") {
    options.protocol = maas::RemoteProtocol::kKServeV2;
    options.binary = true;
  } else if (proto == "v1") {
    options.protocol = maas::RemoteProtocol::kTfServingV1;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("protocol '", proto, "': expected \"v2\", \"v2-binary\" or \"v1\""));
  }
  if (!(a.timeout_seconds >= 0) || a.timeout_seconds > 1e9) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout_seconds = ", a.timeout_seconds, ": expected 0 or a positive number"));
  }
  if (a.timeout_seconds > 0) options.timeout = absl::Seconds(a.timeout_seconds);
  absl::StatusOr<std::unique_ptr<maas::RemoteModel>> model =
      maas::ConnectRemoteModel(a.url, std::move(options));
  if (!model.ok()) return model.status();
  return std::unique_ptr<maas::Predictor>(*std::move(model));
}
#endif

}  // namespace
}  // namespace maas_c

namespace maas_c {

int WrapPredictor(std::unique_ptr<maas::Predictor> predictor, maas_model** model) {
  if (predictor == nullptr) {
    if (model != nullptr) *model = nullptr;
    return Record(absl::InvalidArgumentError("the predictor is null"));
  }
  struct Args {
    std::unique_ptr<maas::Predictor>* p;
  } args{&predictor};
  return Create(
      [](const void* a) -> absl::StatusOr<std::unique_ptr<maas::Predictor>> {
        return std::move(*static_cast<const Args*>(a)->p);
      },
      &args, model);
}

}  // namespace maas_c

extern "C" {

const char* maas_version(void) { return maas::kVersionString; }

const char* maas_status_name(int code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",     "UNAVAILABLE",  "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || code > MAAS_UNAUTHENTICATED) return "UNKNOWN";
  return kNames[code];
}

const char* maas_last_error(void) {
  return maas_c::has_error ? maas_c::last_error.c_str() : "";
}

size_t maas_last_error_copy(char* buffer, size_t size) {
  const char* e = maas_last_error();
  const std::size_t length = std::strlen(e);
  if (buffer != nullptr && size > 0) {
    const std::size_t n = std::min(length, size - 1);
    std::memcpy(buffer, e, n);
    buffer[n] = '\0';
  }
  return length;
}

int maas_model_load_local(const char* path, maas_model** model) {
  return maas_c::Create(
      [](const void* p) -> absl::StatusOr<std::unique_ptr<maas::Predictor>> {
        const char* file = static_cast<const char*>(p);
        if (file == nullptr) return absl::InvalidArgumentError("the model file path is null");
#if MAAS_C_HAS_LOCAL
        return maas::LoadDynamicModel(file);
#else
        return absl::UnimplementedError(absl::StrCat(
            "model file '", file, "': this maas C library was built without the run-time "
            "network (include/maas/local/dynamic_network.h)"));
#endif
      },
      path, model);
}

int maas_model_load_local_text(const char* text, size_t length, const char* source,
                               maas_model** model) {
  struct Args {
    const char* text;
    size_t length;
    const char* source;
  } args{text, length, source};
  return maas_c::Create(
      [](const void* p) -> absl::StatusOr<std::unique_ptr<maas::Predictor>> {
        const auto& a = *static_cast<const Args*>(p);
        if (a.text == nullptr) return absl::InvalidArgumentError("the model text is null");
#if MAAS_C_HAS_LOCAL
        return maas::LoadDynamicModelFromText(absl::string_view(a.text, a.length),
                                              a.source == nullptr ? "<memory>" : a.source);
#else
        return absl::UnimplementedError(
            "this maas C library was built without the run-time network "
            "(include/maas/local/dynamic_network.h)");
#endif
      },
      &args, model);
}

int maas_model_connect_remote(const char* base_url, const char* model_name,
                              const char* protocol, double timeout_seconds,
                              maas_model** model) {
#if MAAS_C_HAS_HTTP
  const maas_c::RemoteArgs args{base_url, model_name, protocol, timeout_seconds};
  return maas_c::Create(&maas_c::MakeRemote, &args, model);
#else
  (void)base_url;
  (void)model_name;
  (void)protocol;
  (void)timeout_seconds;
  if (model == nullptr) {
    return maas_c::Record(absl::InvalidArgumentError("the maas_model** argument is null"));
  }
  *model = nullptr;
  return maas_c::Record(absl::UnimplementedError(
      "this maas C library was built without the HTTP transport (MAAS_BUILD_HTTP=OFF)"));
#endif
}

int maas_model_fallback(maas_model** primary, maas_model** fallback, maas_model** chain) {
  if (chain == nullptr) {
    return maas_c::Record(absl::InvalidArgumentError("the chain (maas_model**) argument is null"));
  }
  *chain = nullptr;
  if (primary == nullptr || fallback == nullptr || *primary == nullptr || *fallback == nullptr) {
    return maas_c::Record(absl::InvalidArgumentError(
        "maas_model_fallback needs two models (a primary and a fallback handle)"));
  }
  if (*primary == *fallback) {
    return maas_c::Record(
        absl::InvalidArgumentError("the primary and the fallback are the same handle"));
  }
  return maas_c::Guard([&]() -> absl::Status {
    maas_model* p = *primary;
    maas_model* f = *fallback;
    absl::StatusOr<std::unique_ptr<maas::FallbackPredictor>> made =
        maas::FallbackPredictor::Create(std::make_unique<maas_c::Forwarding>(p->predictor.get()),
                                        std::make_unique<maas_c::Forwarding>(f->predictor.get()));
    if (!made.ok()) return made.status();
    auto chained = std::make_unique<maas_c::Chain>(*std::move(made));
    maas_c::Chain* raw = chained.get();
    absl::StatusOr<std::unique_ptr<maas_model>> m = maas_c::Wrap(std::move(chained));
    if (!m.ok()) return m.status();
    raw->Adopt(std::move(p->predictor), std::move(f->predictor));
    delete p;
    delete f;
    *primary = nullptr;
    *fallback = nullptr;
    *chain = m->release();
    return absl::OkStatus();
  });
}

int maas_model_input_size(const maas_model* model, int64_t* size) {
  return maas_c::Size(model, size, true);
}

int maas_model_output_size(const maas_model* model, int64_t* size) {
  return maas_c::Size(model, size, false);
}

int maas_model_is_double(const maas_model* model, int* is_double) {
  if (model == nullptr || is_double == nullptr) {
    return maas_c::Record(absl::InvalidArgumentError(
        model == nullptr ? "the model handle is null" : "the is_double pointer is null"));
  }
  *is_double = model->is_double ? 1 : 0;
  return maas_c::Record(absl::OkStatus());
}

int maas_model_predict_f32(maas_model* model, const float* x, int64_t x_rows, int64_t x_cols,
                           float* y, int64_t y_rows, int64_t y_cols) {
  return maas_c::Predict(model, x, x_rows, x_cols, y, y_rows, y_cols);
}

int maas_model_predict_f64(maas_model* model, const double* x, int64_t x_rows, int64_t x_cols,
                           double* y, int64_t y_rows, int64_t y_cols) {
  return maas_c::Predict(model, x, x_rows, x_cols, y, y_rows, y_cols);
}

void maas_model_free(maas_model* model) { delete model; }

}  // extern "C"
