// -----------------------------------------------------------------------------
// File: remote/kserve_v2_codec.h
// -----------------------------------------------------------------------------
//
// Pure encoders and decoders (no I/O) for the Open Inference Protocol REST API
// ("KServe V2"), as served by Triton, KServe, MLServer, OpenVINO Model Server
// and TorchServe, including Triton's binary tensor data extension.
//
// Requests are JSON, or a JSON header followed by the raw input bytes (binary
// extension; `EncodedRequest::header_length` is then the value of the
// `Inference-Header-Content-Length` HTTP header). Responses are decoded from
// the body plus that header's value (0 when absent).
//
// Tolerated server differences: missing `model_name`/`model_version`, nested
// or flat `data`, integers where floats are expected and vice versa, BOOL as
// true/false or 0/1, `NaN`/`Infinity`/`-Infinity` tokens (Triton), unknown
// keys anywhere, binary outputs after a JSON header whose length the server
// did not announce. Data lengths are always checked against shapes.
//
// Error codes: a malformed or inconsistent server reply is `kDataLoss`; bad
// caller input (unnamed input, buffer that does not fit its shape, FP16 data
// without the binary extension) is `kInvalidArgument`. Messages name the
// tensor and the numbers. Nothing throws.
//
// Large float arrays are written with `std::to_chars` and read with
// `std::from_chars` straight from/to the text, without a JSON DOM; binary
// data is copied with memcpy.
//
// Thread safety: all functions are reentrant and may run concurrently.
//
// Example:
//
//   maas::InferRequestOptions opts;
//   opts.binary_inputs = opts.binary_outputs = true;
//   maas::EncodedRequest req;
//   absl::Status s = maas::KServeV2EncodeInferRequest({in}, opts, &req);
//   // POST req.body to maas::KServeV2InferPath("drag", "") with
//   // Inference-Header-Content-Length: req.header_length, then:
//   s = maas::KServeV2DecodeInferResponseInto(reply_body, reply_header_length,
//                                             signature, batch, {out});

#ifndef MAAS_REMOTE_KSERVE_V2_CODEC_H_
#define MAAS_REMOTE_KSERVE_V2_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/model_signature.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/remote/inference.h"

namespace maas {

// KServeV2EncodeInferRequest()
//
// Writes the inference request for `inputs` (each with a non-empty name and a
// buffer that fits its shape) and `opts` into `*out`, reusing its capacity.
// With `opts.binary_inputs` every input is sent as raw little-endian bytes
// (`binary_data_size` parameter); otherwise as a flat JSON `data` array
// (floats in shortest round-trip form, NaN/Infinity as `NaN`/`Infinity`
// tokens; BYTES as JSON strings, which must then be valid UTF-8). With
// `opts.binary_outputs` the request asks for binary outputs
// (`binary_data_output`, and `binary_data` on each named output).
//
// Fails with `kInvalidArgument` (naming the input) on an unnamed input, a
// buffer that does not fit its shape, a malformed BYTES buffer, FP16/BF16
// without `binary_inputs`, or a non-finite double parameter. `*out` is
// unspecified on failure. Allocates only to grow `out->body`.
inline absl::Status KServeV2EncodeInferRequest(absl::Span<const ConstTensorView> inputs,
                                        const InferRequestOptions& opts,
                                        EncodedRequest* out);

// KServeV2DecodeInferResponse()
//
// Decodes an inference response body into owning tensors. `header_length`
// is the `Inference-Header-Content-Length` response header (0 if absent; then
// binary outputs, if any, start right after the JSON value). Fails with
// `kDataLoss` on malformed JSON, a missing `outputs` list, an unknown
// datatype, a shape that is negative, too deep or overflows, data whose
// length does not match the shape, binary sizes that do not add up to the
// body, or FP16/BF16 data in JSON.
inline absl::StatusOr<InferResult> KServeV2DecodeInferResponse(absl::string_view body,
                                                        std::size_t header_length);

// KServeV2DecodeInferResponseInto()
//
// Decodes a response straight into the caller's output views for a batch of
// `batch` rows of a model with signature `sig`. Views are matched to `sig` by
// name (or position when unnamed); outputs the caller did not pass are
// ignored. JSON values are converted to each view's datatype (range-checked:
// 2.5 into an INT32 view fails); binary outputs must have the view's datatype.
//
// All or nothing: on any failure no caller buffer has been written.
// `kInvalidArgument` when the views do not fit `sig` and `batch`;
// `kDataLoss` when the reply is malformed, lacks a requested output, or its
// shape, datatype or data length differs from the view. BYTES views are not
// supported here (`kInvalidArgument`; use KServeV2DecodeInferResponse()).
// JSON data is read into working buffers about the size of the outputs
// (one of them a reused per-thread buffer) and copied over at the end;
// binary data is copied straight from `body`.
inline absl::Status KServeV2DecodeInferResponseInto(absl::string_view body,
                                             std::size_t header_length,
                                             const ModelSignature& sig,
                                             std::int64_t batch,
                                             absl::Span<const TensorView> outputs);

// KServeV2DecodeModelMetadata()
//
// Decodes `GET v2/models/${M}[/versions/${V}]`: name, versions, platform,
// inputs and outputs. Missing `versions`, `platform`, `inputs` or `outputs`
// are left empty (servers differ); a tensor entry without name, a known
// datatype or a valid shape is `kDataLoss`.
inline absl::StatusOr<ModelMetadata> KServeV2DecodeModelMetadata(absl::string_view body);

// KServeV2DecodeServerMetadata()
//
// Decodes `GET v2`: name, version, extensions (also read from TorchServe's
// misspelt "extenstion" key). `kDataLoss` when the body is not a JSON object.
inline absl::StatusOr<ServerMetadata> KServeV2DecodeServerMetadata(absl::string_view body);

// KServeV2DecodeRepositoryIndex()
//
// Decodes `POST v2/repository/index`: a list of {name, version?, state?,
// reason?}. `kDataLoss` when the body is not a JSON array of objects with a
// string `name`.
inline absl::StatusOr<std::vector<RepositoryModel>> KServeV2DecodeRepositoryIndex(
    absl::string_view body);

// KServeV2ErrorMessage()
//
// The message of an error reply: the `error` string of `{"error": "..."}`
// (also `detail` or `message`, as some frameworks send). Otherwise the raw
// body with control and non-ASCII bytes replaced by '?', cut to 512
// characters plus "..."; "" for an empty body. Never fails.
inline std::string KServeV2ErrorMessage(absl::string_view body);

// Paths (each starts with '/'; model names and versions are percent-encoded,
// and an empty `version` leaves the version out so the server picks one).
//
//   KServeV2InferPath("drag", "2")       == "/v2/models/drag/versions/2/infer"
//   KServeV2ModelMetadataPath("a b", "") == "/v2/models/a%20b"
inline std::string KServeV2InferPath(absl::string_view model, absl::string_view version);
inline std::string KServeV2ModelMetadataPath(absl::string_view model,
                                      absl::string_view version);
inline std::string KServeV2ModelReadyPath(absl::string_view model,
                                   absl::string_view version);
inline std::string KServeV2ServerLivePath();       // "/v2/health/live"
inline std::string KServeV2ServerReadyPath();      // "/v2/health/ready"
inline std::string KServeV2ServerMetadataPath();   // "/v2"
inline std::string KServeV2RepositoryIndexPath();  // "/v2/repository/index"
inline std::string KServeV2RepositoryLoadPath(absl::string_view model);    // ".../models/m/load"
inline std::string KServeV2RepositoryUnloadPath(absl::string_view model);  // ".../models/m/unload"

}  // namespace maas

#include "maas/remote/detail/kserve_v2_codec_impl.h"  // IWYU pragma: export

#endif  // MAAS_REMOTE_KSERVE_V2_CODEC_H_
