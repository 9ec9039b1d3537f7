// -----------------------------------------------------------------------------
// File: remote/tf_serving_v1_codec.h
// -----------------------------------------------------------------------------
//
// Pure encoders and decoders (no I/O) for the TensorFlow Serving REST API
// ("V1"; KServe V1 uses the same predict format): predict requests in row
// ("instances") or columnar ("inputs") form, predict responses
// ("predictions" / "outputs"), model status and model metadata.
//
// The predict reply carries no datatypes and, for a single output, no names:
// decoders take them from the model's `ModelSignature`. Numbers are converted
// to the signature's datatypes (range-checked); `NaN`, `Infinity` and
// `-Infinity` tokens are read and written, as TF Serving does. Shapes come
// from the nesting of the JSON arrays and are checked against the signature
// (a reply whose element count fits a fully defined expected shape but whose
// nesting differs only by size-1 dimensions, such as [4] for [4,1], is
// accepted and given the expected shape).
//
// Error codes: a malformed or inconsistent server reply is `kDataLoss`; bad
// caller input is `kInvalidArgument`. Nothing throws.
//
// Thread safety: all functions are reentrant and may run concurrently.
//
// Example:
//
//   maas::EncodedRequest req;
//   absl::Status s = maas::TfServingEncodePredictRequest(
//       {in}, maas::TfServingFormat::kColumnar, "", &req);
//   // POST req.body to maas::TfServingPredictPath("half_plus_two", "", ""):
//   s = maas::TfServingDecodePredictResponseInto(reply, signature, batch, {out});

#ifndef MAAS_REMOTE_TF_SERVING_V1_CODEC_H_
#define MAAS_REMOTE_TF_SERVING_V1_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/model_signature.h"
#include "maas/core/tensor_view.h"
#include "maas/remote/inference.h"

namespace maas {

// TfServingFormat
//
// The two predict request forms; TF Serving answers "instances" with
// "predictions" and "inputs" with "outputs".
enum class TfServingFormat {
  kRow,       // {"instances": [row, ...]}: one element per batch row
  kColumnar,  // {"inputs": tensor | {name: tensor}}: more compact
};

// TfServingModelVersionStatus
//
// One entry of `GET /v1/models/${M}`: version, state ("AVAILABLE",
// "LOADING", "END", ...) and the status' error code ("OK" when fine) and
// message.
struct TfServingModelVersionStatus {
  std::string version;
  std::string state;
  std::string error_code;
  std::string error_message;
};

// TfServingEncodePredictRequest()
//
// Writes a predict request for `inputs` into `*out` (pure JSON,
// `header_length` 0), reusing its capacity. One input is sent bare (a list of
// rows, or one nested tensor); several inputs as objects keyed by input name
// (then every input needs a name, and in row form all share dimension 0).
// Arrays are nested as the shapes say; floats in shortest round-trip form,
// NaN/Infinity as tokens; BYTES elements as strings, or {"b64": ...} when not
// valid UTF-8. `signature_name` is sent when not empty.
//
// Fails with `kInvalidArgument` (naming the input) on no inputs, a buffer
// that does not fit its shape, an unnamed input among several, a row-form
// input of rank 0 or with another batch size, or FP16/BF16 data.
inline absl::Status TfServingEncodePredictRequest(
    absl::Span<const ConstTensorView> inputs, TfServingFormat format,
    absl::string_view signature_name, EncodedRequest* out);

// TfServingDecodePredictResponse()
//
// Decodes a predict reply for a batch of `batch` rows of a model with
// signature `sig` into owning tensors named and typed after `sig.outputs`, in
// signature order. Reads "predictions" (rows: bare values for one output,
// objects keyed by output name for several) or "outputs" (a tensor for one
// output, an object keyed by name for several). A single-output object with
// another key than the signature's output name is accepted if it has exactly
// one key. `kDataLoss` on malformed JSON, neither key present, a missing
// output, ragged arrays, a value that does not fit the datatype, or a shape
// that does not match the signature.
inline absl::StatusOr<InferResult> TfServingDecodePredictResponse(
    absl::string_view body, const ModelSignature& sig, std::int64_t batch);

// TfServingDecodePredictResponseInto()
//
// As TfServingDecodePredictResponse(), writing straight into the caller's
// views (matched to `sig` by name, or position when unnamed; outputs not
// passed are ignored). All or nothing: on failure no caller buffer has been
// written. `kInvalidArgument` when the views do not fit `sig` and `batch`,
// `kDataLoss` for reply problems. BYTES views are `kInvalidArgument`.
inline absl::Status TfServingDecodePredictResponseInto(
    absl::string_view body, const ModelSignature& sig, std::int64_t batch,
    absl::Span<const TensorView> outputs);

// TfServingDecodeModelStatus()
//
// Decodes `GET /v1/models/${M}[/versions/${V}]`: the `model_version_status`
// list. `kDataLoss` when the body is not an object with that list.
inline absl::StatusOr<std::vector<TfServingModelVersionStatus>>
TfServingDecodeModelStatus(absl::string_view body);

// TfServingDecodeModelMetadata()
//
// Decodes `GET /v1/models/${M}[...]/metadata`: the inputs and outputs of
// `metadata.signature_def.signature_def[signature_name]` (tensors named by
// their signature keys, sorted by name; dtypes DT_FLOAT -> FP32, DT_DOUBLE ->
// FP64, DT_INT32, DT_INT64, DT_BOOL, DT_STRING -> BYTES, ...; dims from
// `tensor_shape.dim[].size`, -1 for unknown), `model_spec.name` and
// `model_spec.version`, platform "tensorflow". `kNotFound` when the model
// has no such signature (the message lists the available ones); `kDataLoss`
// when the body is malformed, a dtype has no maas datatype, or a shape has
// unknown rank.
inline absl::StatusOr<ModelMetadata> TfServingDecodeModelMetadata(
    absl::string_view body, absl::string_view signature_name = "serving_default");

// TfServingErrorMessage()
//
// The `error` string of `{"error": "..."}`, with the same fallbacks as
// KServeV2ErrorMessage(). Never fails.
inline std::string TfServingErrorMessage(absl::string_view body);

// Paths (percent-encoded; a non-empty `version` wins over `label`; both empty
// = the server's latest version):
//
//   TfServingPredictPath("m", "", "")       == "/v1/models/m:predict"
//   TfServingPredictPath("m", "3", "")      == "/v1/models/m/versions/3:predict"
//   TfServingPredictPath("m", "", "stable") == "/v1/models/m/labels/stable:predict"
//   TfServingModelStatusPath("m", "", "")   == "/v1/models/m"
//   TfServingModelMetadataPath("m", "", "") == "/v1/models/m/metadata"
inline std::string TfServingPredictPath(absl::string_view model,
                                        absl::string_view version,
                                        absl::string_view label);
inline std::string TfServingModelStatusPath(absl::string_view model,
                                            absl::string_view version,
                                            absl::string_view label);
inline std::string TfServingModelMetadataPath(absl::string_view model,
                                              absl::string_view version,
                                              absl::string_view label);

}  // namespace maas

#include "maas/remote/detail/tf_serving_v1_codec_impl.h"  // IWYU pragma: export

#endif  // MAAS_REMOTE_TF_SERVING_V1_CODEC_H_
