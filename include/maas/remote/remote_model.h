// -----------------------------------------------------------------------------
// File: remote/remote_model.h
// -----------------------------------------------------------------------------
//
// `maas::RemoteModel` puts a model on an inference server behind the one
// `maas::Predictor` interface, so a simulation calls it exactly as it calls a
// `maas::LocalModel`.
//
// Protocols:
//  * `RemoteProtocol::kKServeV2`: the Open Inference Protocol REST API
//    (Triton, KServe, MLServer, OpenVINO MS, TorchServe), JSON or with the
//    binary tensor data extension (`RemoteModelOptions::binary`).
//  * `RemoteProtocol::kTfServingV1`: TensorFlow Serving REST predict (also
//    KServe V1), row ("instances") or columnar ("inputs") requests.
//
// The signature comes from `RemoteModelOptions::signature` when given (then
// no metadata call is ever made), else from the server's model metadata on
// first use (`Signature()`, `Predict()`) or on `RefreshSignature()`. For
// TF Serving V1 the metadata endpoint is `.../metadata`; servers without it
// (KServe's V1 routes) are asked for V2 metadata instead.
//
// Every `Predict` validates the caller's views against the signature before
// anything is sent, with the same checks and messages as `LocalModel`
// (`ModelSignature::ValidateInputs` / `ValidateOutputs`): a wrong shape never
// reaches the server. Outputs are written only when the whole reply decoded
// (all or nothing); a failed call leaves them untouched.
//
// Errors follow remote/http_status.h: `kUnavailable` (server down, 502/503),
// `kDeadlineExceeded` (timeouts, 504), `kNotFound` (unknown model, 404),
// `kInvalidArgument` (bad views; server 400), `kResourceExhausted` (429,
// oversized reply), `kDataLoss` (reply that does not parse or does not fit
// the signature), ... Messages name the server and path and carry the
// server's own error text; HTTP statuses travel as a payload
// (`HttpStatusOf()`).
//
// Thread safety: all members may be called from many threads at once (the
// transport must be thread-safe, as `HttpLibTransport` is). The cached
// signature is replaced atomically by `RefreshSignature()`.
//
// Example:
//
//   maas::RemoteModelOptions opts;
//   opts.model = "drag";
//   opts.binary = true;
//   auto model = maas::ConnectRemoteModel("http://127.0.0.1:8080", opts);  // httplib_transport.h
//   if (!model.ok()) return model.status();
//   maas::Predictor& p = **model;
//   absl::Status s = p.Predict({in}, {out});

#ifndef MAAS_REMOTE_REMOTE_MODEL_H_
#define MAAS_REMOTE_REMOTE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/detail/exception.h"
#include "maas/core/detail/mutex.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/remote/http.h"
#include "maas/remote/detail/codec_metadata.h"
#include "maas/remote/http_status.h"
#include "maas/remote/inference.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/tf_serving_v1_codec.h"

namespace maas {

// RemoteProtocol
//
// The wire protocol a `RemoteModel` speaks.
enum class RemoteProtocol {
  kKServeV2,     // Open Inference Protocol REST ("KServe V2")
  kTfServingV1,  // TensorFlow Serving REST predict ("KServe V1")
};

// RemoteModelOptions
//
//  * `model` (required) and `version` ("" = the server's choice).
//  * `protocol`: see `RemoteProtocol`.
//  * `binary` (V2): send inputs and ask for outputs with the binary tensor
//    data extension (Triton, KServe >= 0.14; not MLServer over REST).
//  * `tf_format`, `tf_signature_name`, `tf_version_label` (V1): request
//    form, signature to call ("" = the server's default; metadata then reads
//    "serving_default") and version label (used when `version` is empty).
//  * `signature`: the model's signature, if known; skips the metadata call.
//  * `timeout`: total timeout of each call (infinite = the transport's).
struct RemoteModelOptions {
  std::string model;
  std::string version;
  RemoteProtocol protocol = RemoteProtocol::kKServeV2;
  bool binary = false;
  TfServingFormat tf_format = TfServingFormat::kColumnar;
  std::string tf_signature_name;
  std::string tf_version_label;
  std::optional<ModelSignature> signature;
  absl::Duration timeout = absl::InfiniteDuration();
};

// RemoteModel
//
// See the file comment. Create with `RemoteModel::Create()` (any transport)
// or `ConnectRemoteModel()` (httplib_transport.h).
class RemoteModel final : public Predictor {
 public:
  // RemoteModel::Create()
  //
  // A model `options.model` served behind `transport` (non-null, shared so
  // several models can use one connection pool). Does not contact the
  // server. Fails with `kInvalidArgument` for an empty model name or a
  // given signature without inputs or outputs.
  static absl::StatusOr<std::unique_ptr<RemoteModel>> Create(
      RemoteModelOptions options, std::shared_ptr<HttpTransport> transport) {
    if (transport == nullptr) {
      return absl::InvalidArgumentError("RemoteModel::Create: transport is null");
    }
    if (options.model.empty()) {
      return absl::InvalidArgumentError(
          "RemoteModelOptions::model must name the model");
    }
    if (options.signature.has_value() &&
        (options.signature->inputs.empty() || options.signature->outputs.empty())) {
      return absl::InvalidArgumentError(
          "RemoteModelOptions::signature must have inputs and outputs");
    }
    return std::unique_ptr<RemoteModel>(
        new RemoteModel(std::move(options), std::move(transport)));
  }

  // RemoteModel::Signature()
  //
  // The model's signature: the given one, or the server's metadata fetched
  // on first use (then cached). Fails with the metadata call's status.
  absl::StatusOr<ModelSignature> Signature() override {
    try {
      absl::StatusOr<std::shared_ptr<const ModelSignature>> sig = CachedSignature();
      if (!sig.ok()) return sig.status();
      return **sig;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::Signature");
    }
  }

  // RemoteModel::label()
  //
  // "remote".
  absl::string_view label() const override { return "remote"; }

  // RemoteModel::RefreshSignature()
  //
  // Fetches the model metadata again and replaces the cached signature (a
  // signature given in the options is kept; this is then a no-op).
  absl::Status RefreshSignature() ABSL_LOCKS_EXCLUDED(mu_) {
    try {
      if (options_.signature.has_value()) return absl::OkStatus();
      absl::StatusOr<ModelSignature> fetched = FetchSignature();
      if (!fetched.ok()) return fetched.status();
      auto sig = std::make_shared<const ModelSignature>(*std::move(fetched));
      detail::MutexLock lock(&mu_);
      signature_ = std::move(sig);
      return absl::OkStatus();
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::RefreshSignature");
    }
  }

  // RemoteModel::ServerLive() / ServerReady()
  //
  // V2 health endpoints, judged by the HTTP status alone (200 = true, any
  // other reply = false; servers differ in bodies and in 400 vs 503). A
  // transport failure is returned as its status. V1: `kUnimplemented`.
  absl::StatusOr<bool> ServerLive() { return Health(KServeV2ServerLivePath()); }
  absl::StatusOr<bool> ServerReady() { return Health(KServeV2ServerReadyPath()); }

  // RemoteModel::ModelReady()
  //
  // V2: `GET v2/models/M[/versions/V]/ready`, 200 = true. V1: the model
  // status has a version in state AVAILABLE (TF Serving), or
  // `{"ready": true}` (KServe V1); a 404 is false.
  absl::StatusOr<bool> ModelReady() {
    try {
      if (options_.protocol == RemoteProtocol::kKServeV2) {
        return Health(KServeV2ModelReadyPath(options_.model, options_.version));
      }
      const std::string path = TfServingModelStatusPath(
          options_.model, options_.version, options_.tf_version_label);
      absl::StatusOr<HttpResponse> resp = Get(path);
      if (!resp.ok()) return resp.status();
      if (resp->status == 404) return false;
      if (absl::Status s = CheckReply(*resp, HttpMethod::kGet, path); !s.ok()) {
        return s;
      }
      bool ready = false;
      if (detail::DecodeReadyFlag(resp->body, &ready)) return ready;
      absl::StatusOr<std::vector<TfServingModelVersionStatus>> st =
          TfServingDecodeModelStatus(resp->body);
      if (!st.ok()) return Where(st.status(), HttpMethod::kGet, path);
      for (const TfServingModelVersionStatus& v : *st) {
        if (v.state == "AVAILABLE") return true;
      }
      return false;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::ModelReady");
    }
  }

  // RemoteModel::GetServerMetadata()
  //
  // V2 `GET v2`. V1: `kUnimplemented`.
  absl::StatusOr<ServerMetadata> GetServerMetadata() {
    try {
      if (absl::Status s = RequireV2("server metadata"); !s.ok()) return s;
      const std::string path = KServeV2ServerMetadataPath();
      absl::StatusOr<HttpResponse> resp = Get(path);
      if (!resp.ok()) return resp.status();
      if (absl::Status s = CheckReply(*resp, HttpMethod::kGet, path); !s.ok()) {
        return s;
      }
      absl::StatusOr<ServerMetadata> md = KServeV2DecodeServerMetadata(resp->body);
      if (!md.ok()) return Where(md.status(), HttpMethod::kGet, path);
      return md;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::GetServerMetadata");
    }
  }

  // RemoteModel::GetModelMetadata()
  //
  // The server's metadata for this model (V2 model metadata; V1 the
  // signature_def of `tf_signature_name`, falling back to V2 metadata when
  // the server has no V1 metadata endpoint).
  absl::StatusOr<ModelMetadata> GetModelMetadata() {
    return GetModelMetadataWithin(absl::InfiniteFuture());
  }

  // RemoteModel::GetModelMetadataWithin()
  //
  // As GetModelMetadata(), with every request ending by `deadline`.
  absl::StatusOr<ModelMetadata> GetModelMetadataWithin(absl::Time deadline) {
    try {
      if (options_.protocol == RemoteProtocol::kKServeV2) return FetchV2Metadata(deadline);
      const std::string path = TfServingModelMetadataPath(
          options_.model, options_.version, options_.tf_version_label);
      absl::StatusOr<HttpResponse> resp = Get(path, deadline);
      if (!resp.ok()) return resp.status();
      if (resp->status == 404 || resp->status == 405) {
        absl::StatusOr<ModelMetadata> v2 = FetchV2Metadata(deadline);
        if (v2.ok()) return v2;
      }
      if (absl::Status s = CheckReply(*resp, HttpMethod::kGet, path); !s.ok()) {
        return s;
      }
      absl::StatusOr<ModelMetadata> md = TfServingDecodeModelMetadata(
          resp->body, options_.tf_signature_name.empty()
                          ? absl::string_view("serving_default")
                          : absl::string_view(options_.tf_signature_name));
      if (!md.ok()) return Where(md.status(), HttpMethod::kGet, path);
      return md;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::GetModelMetadataWithin");
    }
  }

  // RemoteModel::RepositoryIndex() / LoadModel() / UnloadModel()
  //
  // The V2 model repository extension (Triton, MLServer; KServe has
  // load/unload but no index). A server without it answers 404/501, returned
  // as `kNotFound` / `kUnimplemented`. V1: `kUnimplemented`.
  absl::StatusOr<std::vector<RepositoryModel>> RepositoryIndex() {
    try {
      if (absl::Status s = RequireV2("repository index"); !s.ok()) return s;
      const std::string path = KServeV2RepositoryIndexPath();
      absl::StatusOr<HttpResponse> resp = Post(path, "{}");
      if (!resp.ok()) return resp.status();
      if (absl::Status s = CheckReply(*resp, HttpMethod::kPost, path); !s.ok()) {
        return s;
      }
      absl::StatusOr<std::vector<RepositoryModel>> index =
          KServeV2DecodeRepositoryIndex(resp->body);
      if (!index.ok()) return Where(index.status(), HttpMethod::kPost, path);
      return index;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::RepositoryIndex");
    }
  }
  absl::Status LoadModel(absl::string_view model) {
    return RepositoryCall("load", KServeV2RepositoryLoadPath(model));
  }
  absl::Status UnloadModel(absl::string_view model) {
    return RepositoryCall("unload", KServeV2RepositoryUnloadPath(model));
  }

  const RemoteModelOptions& options() const { return options_; }
  HttpTransport& transport() const { return *transport_; }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  // With a deadline, the request's socket waits end by it (and by the
  // transport's and the options' timeouts, whichever is first).
  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    if (call.has_deadline() && absl::Now() >= call.deadline) {
      return DeadlinePassedError(WhereText(HttpMethod::kPost, infer_path_));
    }
    absl::Status s = PredictWithin(inputs, outputs, call.deadline);
    if (report != nullptr) {
      report->attempts = 1;
      if (s.ok()) report->served_by = label();
    }
    return s;
  }

  absl::Status PredictWithin(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, absl::Time deadline) {
    absl::StatusOr<std::shared_ptr<const ModelSignature>> cached = CachedSignature(deadline);
    if (!cached.ok()) return cached.status();
    const ModelSignature& sig = **cached;
    if (outputs.empty()) {
      return absl::InvalidArgumentError(
          "no outputs given; pass at least one output view");
    }
    InputBuffer named(sig.inputs.size());
    absl::StatusOr<std::int64_t> batch = NameInputs(sig, inputs, &named);
    if (!batch.ok()) return batch.status();
    OutputBuffer ordered(sig.outputs.size());
    if (absl::Status s = sig.ValidateOutputs(outputs, *batch,
                                             absl::MakeSpan(ordered),
                                             /*require_all=*/false);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<HttpResponse> resp = SendInfer(named, deadline);
    if (!resp.ok()) return resp.status();
    absl::Status s;
    if (options_.protocol == RemoteProtocol::kKServeV2) {
      absl::StatusOr<std::size_t> hl = HeaderLength(*resp);
      if (!hl.ok()) return Where(hl.status(), HttpMethod::kPost, infer_path_);
      s = KServeV2DecodeInferResponseInto(resp->body, *hl, sig, *batch, outputs);
    } else {
      s = TfServingDecodePredictResponseInto(resp->body, sig, *batch, outputs);
    }
    return s.ok() ? s : Where(s, HttpMethod::kPost, infer_path_);
  }

  // Returns the outputs with the shapes the server reports (so dynamic
  // dimensions work), in signature order.
  absl::StatusOr<std::vector<Tensor>> DoPredictAllocating(
      absl::Span<const ConstTensorView> inputs) override {
    absl::StatusOr<std::shared_ptr<const ModelSignature>> cached = CachedSignature();
    if (!cached.ok()) return cached.status();
    const ModelSignature& sig = **cached;
    InputBuffer named(sig.inputs.size());
    absl::StatusOr<std::int64_t> batch = NameInputs(sig, inputs, &named);
    if (!batch.ok()) return batch.status();
    absl::StatusOr<HttpResponse> resp = SendInfer(named, absl::InfiniteFuture());
    if (!resp.ok()) return resp.status();
    absl::StatusOr<InferResult> result;
    if (options_.protocol == RemoteProtocol::kKServeV2) {
      absl::StatusOr<std::size_t> hl = HeaderLength(*resp);
      if (!hl.ok()) return Where(hl.status(), HttpMethod::kPost, infer_path_);
      result = KServeV2DecodeInferResponse(resp->body, *hl);
    } else {
      result = TfServingDecodePredictResponse(resp->body, sig, *batch);
    }
    if (!result.ok()) return Where(result.status(), HttpMethod::kPost, infer_path_);
    std::vector<Tensor> out;
    out.reserve(sig.outputs.size());
    for (std::size_t i = 0; i < sig.outputs.size(); ++i) {
      const TensorSpec& spec = sig.outputs[i];
      const Tensor* t = result->FindOutput(spec.name);
      if (t == nullptr && sig.outputs.size() == 1 && result->outputs.size() == 1) {
        t = &result->outputs[0];
      }
      if (t == nullptr) {
        return Where(absl::DataLossError(absl::StrCat(
                         "the reply has no output '", spec.name, "'")),
                     HttpMethod::kPost, infer_path_);
      }
      const Shape want = sig.ExpectedOutputShape(i, *batch);
      if (t->dtype() != spec.dtype || !want.Matches(t->shape())) {
        return Where(absl::DataLossError(absl::StrCat(
                         "output '", spec.name, "': expected ",
                         DataTypeName(spec.dtype), want.ToString(), ", got ",
                         DataTypeName(t->dtype()), t->shape().ToString())),
                     HttpMethod::kPost, infer_path_);
      }
      out.push_back(*t);
    }
    return out;
  }

 private:
  using InputBuffer = absl::InlinedVector<ConstTensorView, 4>;
  using OutputBuffer = absl::InlinedVector<TensorView, 4>;

  RemoteModel(RemoteModelOptions options, std::shared_ptr<HttpTransport> transport)
      : options_(std::move(options)), transport_(std::move(transport)) {
    if (options_.signature.has_value()) {
      signature_ = std::make_shared<const ModelSignature>(*options_.signature);
    }
    infer_path_ = options_.protocol == RemoteProtocol::kKServeV2
                      ? KServeV2InferPath(options_.model, options_.version)
                      : TfServingPredictPath(options_.model, options_.version,
                                             options_.tf_version_label);
  }

  // Validates the inputs and re-labels them with the signature's names (the
  // encoders need names; callers may pass unnamed, positional views).
  static absl::StatusOr<std::int64_t> NameInputs(
      const ModelSignature& sig, absl::Span<const ConstTensorView> inputs,
      InputBuffer* named) {
    absl::StatusOr<std::int64_t> batch =
        sig.ValidateInputs(inputs, absl::MakeSpan(*named));
    if (!batch.ok()) return batch.status();
    for (std::size_t i = 0; i < named->size(); ++i) {
      const ConstTensorView& v = (*named)[i];
      (*named)[i] = ConstTensorView(sig.inputs[i].name, v.dtype(), v.shape(),
                                    v.raw_data(), v.byte_size());
    }
    return batch;
  }

  absl::StatusOr<HttpResponse> SendInfer(const InputBuffer& named, absl::Time deadline) {
    // One encode buffer per thread: stops allocating once warm.
    thread_local EncodedRequest encoded;
    absl::Status s;
    if (options_.protocol == RemoteProtocol::kKServeV2) {
      InferRequestOptions ro;
      ro.binary_inputs = options_.binary;
      ro.binary_outputs = options_.binary;
      s = KServeV2EncodeInferRequest(absl::MakeConstSpan(named), ro, &encoded);
    } else {
      s = TfServingEncodePredictRequest(absl::MakeConstSpan(named),
                                        options_.tf_format,
                                        options_.tf_signature_name, &encoded);
    }
    if (!s.ok()) return s;
    HttpRequest req;
    req.method = HttpMethod::kPost;
    req.path = infer_path_;
    req.body = encoded.body;
    req.content_type = encoded.content_type.empty() ? std::string("application/json")
                                                    : encoded.content_type;
    req.timeout = options_.timeout;
    req.deadline = deadline;
    if (encoded.header_length > 0) {
      req.headers.Add("Inference-Header-Content-Length",
                      absl::StrCat(encoded.header_length));
    }
    absl::StatusOr<HttpResponse> resp = transport_->Send(req);
    if (!resp.ok()) return resp.status();
    if (absl::Status c = CheckReply(*resp, HttpMethod::kPost, infer_path_);
        !c.ok()) {
      return c;
    }
    return resp;
  }

  static absl::StatusOr<std::size_t> HeaderLength(const HttpResponse& resp) {
    std::optional<absl::string_view> h =
        resp.Header("Inference-Header-Content-Length");
    if (!h.has_value()) return std::size_t{0};
    std::uint64_t n = 0;
    if (!absl::SimpleAtoi(*h, &n) || n > resp.body.size()) {
      return absl::DataLossError(absl::StrCat(
          "Inference-Header-Content-Length '", *h,
          "' is not a length within the ", resp.body.size(), "-byte body"));
    }
    return static_cast<std::size_t>(n);
  }

  std::string WhereText(HttpMethod method, absl::string_view path) const {
    return absl::StrCat(transport_->base_url(), " ", HttpMethodName(method), " ",
                        path);
  }

  // Prefixes a codec's status with the server and path.
  absl::Status Where(const absl::Status& s, HttpMethod method,
                     absl::string_view path) const {
    return absl::Status(s.code(),
                        absl::StrCat(WhereText(method, path), ": ", s.message()));
  }

  // Maps a non-2xx reply to its status (server error text included).
  absl::Status CheckReply(const HttpResponse& resp, HttpMethod method,
                          absl::string_view path) const {
    if (resp.status >= 200 && resp.status < 300) return absl::OkStatus();
    if (resp.status >= 300 && resp.status < 400) {
      std::optional<absl::string_view> loc = resp.Header("Location");
      return absl::FailedPreconditionError(absl::StrCat(
          WhereText(method, path), ": HTTP ", resp.status,
          " redirect not followed", loc.has_value() ? " to " : "",
          loc.has_value() ? *loc : absl::string_view(),
          "; configure the final URL"));
    }
    const std::string text = options_.protocol == RemoteProtocol::kKServeV2
                                 ? KServeV2ErrorMessage(resp.body)
                                 : TfServingErrorMessage(resp.body);
    std::optional<absl::Duration> retry_after;
    if (std::optional<absl::string_view> h = resp.Header("Retry-After")) {
      retry_after = ParseRetryAfter(*h, absl::Now());
    }
    return HttpErrorStatus(resp.status, WhereText(method, path), text, retry_after);
  }

  absl::StatusOr<HttpResponse> Get(const std::string& path,
                                   absl::Time deadline = absl::InfiniteFuture()) {
    HttpRequest req;
    req.method = HttpMethod::kGet;
    req.path = path;
    req.timeout = options_.timeout;
    req.deadline = deadline;
    return transport_->Send(req);
  }

  absl::StatusOr<HttpResponse> Post(const std::string& path,
                                    absl::string_view json) {
    HttpRequest req;
    req.method = HttpMethod::kPost;
    req.path = path;
    req.body = json;
    req.content_type = "application/json";
    req.timeout = options_.timeout;
    return transport_->Send(req);
  }

  absl::StatusOr<bool> Health(const std::string& path) {
    try {
      if (absl::Status s = RequireV2("health endpoints"); !s.ok()) return s;
      absl::StatusOr<HttpResponse> resp = Get(path);
      if (!resp.ok()) return resp.status();
      return resp->status == 200;
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::Health");
    }
  }

  absl::Status RequireV2(absl::string_view what) const {
    if (options_.protocol == RemoteProtocol::kKServeV2) return absl::OkStatus();
    return absl::UnimplementedError(
        absl::StrCat(what, " are not part of the TF Serving v1 REST API"));
  }

  absl::Status RepositoryCall(absl::string_view what, const std::string& path) {
    try {
      if (absl::Status s = RequireV2(absl::StrCat("repository ", what)); !s.ok()) {
        return s;
      }
      absl::StatusOr<HttpResponse> resp = Post(path, "{}");
      if (!resp.ok()) return resp.status();
      return CheckReply(*resp, HttpMethod::kPost, path);
    } catch (...) {
      return detail::CurrentExceptionStatus("RemoteModel::RepositoryCall");
    }
  }

  absl::StatusOr<ModelMetadata> FetchV2Metadata(absl::Time deadline) {
    const std::string path =
        KServeV2ModelMetadataPath(options_.model, options_.version);
    absl::StatusOr<HttpResponse> resp = Get(path, deadline);
    if (!resp.ok()) return resp.status();
    if (absl::Status s = CheckReply(*resp, HttpMethod::kGet, path); !s.ok()) {
      return s;
    }
    absl::StatusOr<ModelMetadata> md = KServeV2DecodeModelMetadata(resp->body);
    if (!md.ok()) return Where(md.status(), HttpMethod::kGet, path);
    return md;
  }

  absl::StatusOr<ModelSignature> FetchSignature(absl::Time deadline = absl::InfiniteFuture()) {
    absl::StatusOr<ModelMetadata> md = GetModelMetadataWithin(deadline);
    if (!md.ok()) return md.status();
    if (md->inputs.empty() || md->outputs.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          transport_->base_url(), ": the metadata of model '", options_.model,
          "' lists no inputs or no outputs; pass RemoteModelOptions::signature"));
    }
    ModelSignature sig = md->ToSignature(options_.version);
    if (sig.name.empty()) sig.name = options_.model;
    return sig;
  }

  absl::StatusOr<std::shared_ptr<const ModelSignature>> CachedSignature(
      absl::Time deadline = absl::InfiniteFuture()) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      detail::MutexLock lock(&mu_);
      if (signature_ != nullptr) return signature_;
    }
    absl::StatusOr<ModelSignature> fetched = FetchSignature(deadline);
    if (!fetched.ok()) return fetched.status();
    auto sig = std::make_shared<const ModelSignature>(*std::move(fetched));
    detail::MutexLock lock(&mu_);
    if (signature_ == nullptr) signature_ = std::move(sig);
    return signature_;
  }

  const RemoteModelOptions options_;
  const std::shared_ptr<HttpTransport> transport_;
  std::string infer_path_;
  detail::Mutex mu_;
  std::shared_ptr<const ModelSignature> signature_ ABSL_GUARDED_BY(mu_);
};

}  // namespace maas

#endif  // MAAS_REMOTE_REMOTE_MODEL_H_
