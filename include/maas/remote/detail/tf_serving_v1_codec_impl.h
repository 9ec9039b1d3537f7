// Implementation of maas/remote/tf_serving_v1_codec.h. Include that header,
// not this one.

#ifndef MAAS_REMOTE_DETAIL_TF_SERVING_V1_CODEC_IMPL_H_
#define MAAS_REMOTE_DETAIL_TF_SERVING_V1_CODEC_IMPL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/shape.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/remote/detail/codec_json_reader.h"
#include "maas/remote/detail/codec_metadata.h"
#include "maas/remote/detail/codec_text.h"
#include "maas/remote/inference.h"

namespace maas {

namespace detail {

inline std::string TfServingModelPath(absl::string_view model,
                                      absl::string_view version,
                                      absl::string_view label,
                                      absl::string_view suffix) {
  std::string p = "/v1/models/";
  AppendPathSegment(&p, model);
  if (!version.empty()) {
    p += "/versions/";
    AppendPathSegment(&p, version);
  } else if (!label.empty()) {
    p += "/labels/";
    AppendPathSegment(&p, label);
  }
  p.append(suffix.data(), suffix.size());
  return p;
}

}  // namespace detail

namespace detail {

inline absl::Status TfReplyError(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("tf serving reply: ", what));
}

// Writes elements [start, start + count) of `in` as comma-separated JSON
// values (BYTES: strings, or {"b64": ...} when not UTF-8).
inline void AppendTfValues(std::string* out, const ConstTensorView& in,
                           const std::vector<absl::string_view>& bytes_elems,
                           std::size_t start, std::size_t count) {
  if (in.dtype() == DataType::kBytes) {
    for (std::size_t i = start; i < start + count; ++i) {
      if (i > start) out->push_back(',');
      const absl::string_view e = bytes_elems[i];
      if (IsValidUtf8(e)) {
        AppendJsonString(out, e);
      } else {
        out->append("{\"b64\":\"");
        AppendBase64(out, e);
        out->append("\"}");
      }
    }
    return;
  }
  const std::size_t elem = DataTypeSize(in.dtype());
  AppendJsonValuesAs(out, in.dtype(),
                     static_cast<const std::byte*>(in.raw_data()) + start * elem, count);
}

// Writes the elements from `start` on as arrays nested as `dims` says (a
// bare scalar for no dims).
inline void AppendTfNested(std::string* out, const ConstTensorView& in,
                           const std::vector<absl::string_view>& bytes_elems,
                           absl::Span<const std::int64_t> dims, std::size_t start) {
  if (dims.empty()) {
    AppendTfValues(out, in, bytes_elems, start, 1);
    return;
  }
  out->push_back('[');
  const auto n = static_cast<std::size_t>(dims[0]);
  if (dims.size() == 1) {
    AppendTfValues(out, in, bytes_elems, start, n);
  } else {
    std::size_t inner = 1;
    for (std::size_t k = 1; k < dims.size(); ++k) inner *= static_cast<std::size_t>(dims[k]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out->push_back(',');
      AppendTfNested(out, in, bytes_elems, dims.subspan(1), start + i * inner);
    }
  }
  out->push_back(']');
}

// One output being decoded.
struct TfDecodedOutput {
  bool wanted = false;
  DataType dtype = DataType::kInvalid;
  std::vector<std::byte> bytes;
  GrowSink sink;
  NestShape ns;
  Shape shape;
};

// Finds the member for output `name` among `members`; with a single-output
// signature, a lone member of another name is taken too.
inline const std::pair<std::string, absl::string_view>* FindTfMember(
    const std::vector<std::pair<std::string, absl::string_view>>& members,
    absl::string_view name, bool single_output) {
  for (const auto& m : members) {
    if (m.first == name) return &m;
  }
  if (single_output && members.size() == 1) return &members[0];
  return nullptr;
}

// Reads an object's members as (key, value text) pairs.
inline bool ReadTfMembers(JsonReader* r,
                          std::vector<std::pair<std::string, absl::string_view>>* members,
                          std::vector<std::size_t>* offsets) {
  members->clear();
  offsets->clear();
  if (!r->Expect('{')) return false;
  std::string key;
  bool first = true;
  while (r->NextMember(&first, &key)) {
    absl::string_view span;
    r->SkipWs();
    offsets->push_back(r->offset());
    if (!r->SkipValueSpan(&span)) return false;
    members->emplace_back(key, span);
  }
  if (r->failed()) return false;
  // A repeated key would let two readers of the reply disagree on a value.
  std::vector<absl::string_view> keys;
  keys.reserve(members->size());
  for (const auto& m : *members) keys.emplace_back(m.first);
  std::sort(keys.begin(), keys.end());
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i] == keys[i - 1]) {
      return r->Fail(absl::StrCat("key '", keys[i].substr(0, 64), "' appears twice"));
    }
  }
  return true;
}

// Decodes the outputs marked `wanted` in `outs` (sized like sig.outputs).
inline absl::Status DecodeTfPredictReply(absl::string_view body, const ModelSignature& sig,
                                         std::int64_t batch,
                                         std::vector<TfDecodedOutput>* outs) {
  const std::size_t n_out = sig.outputs.size();
  if (n_out == 0) return absl::InvalidArgumentError("the model signature has no outputs");
  JsonReader r(body);
  if (r.Peek() != '{') return TfReplyError(absl::StrCat("expected a JSON object but ", r.Found()));
  r.Expect('{');
  const bool single = n_out == 1;
  for (std::size_t j = 0; j < n_out; ++j) {
    TfDecodedOutput& o = (*outs)[j];
    o.dtype = sig.outputs[j].dtype;
    o.sink = GrowSink{&o.bytes};
  }
  auto read_value = [&](std::size_t j, absl::string_view text, std::size_t offset,
                        int level) -> absl::Status {
    TfDecodedOutput& o = (*outs)[j];
    JsonReader sub(text, offset);
    if (!sub.ReadTreeAs(o.dtype, &o.sink, &o.ns, level) || !sub.AtEnd()) {
      if (!sub.failed()) sub.Fail("unexpected text after the value");
      return TfReplyError(absl::StrCat("output '", sig.outputs[j].name, "': ", sub.error()));
    }
    return absl::OkStatus();
  };
  std::vector<std::pair<std::string, absl::string_view>> members;
  std::vector<std::size_t> offsets;
  auto read_object = [&](JsonReader* vr, int level, absl::string_view where) -> absl::Status {
    if (!ReadTfMembers(vr, &members, &offsets)) {
      return TfReplyError(absl::StrCat("malformed JSON: ", vr->error()));
    }
    for (std::size_t j = 0; j < n_out; ++j) {
      if (!(*outs)[j].wanted) continue;
      const auto* m = FindTfMember(members, sig.outputs[j].name, single);
      if (m == nullptr) {
        return TfReplyError(absl::StrCat(where, " has no output '", sig.outputs[j].name, "'"));
      }
      const std::size_t off = offsets[static_cast<std::size_t>(m - members.data())];
      if (absl::Status s = read_value(j, m->second, off, level); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  // Reads the value of "predictions" (rows) or "outputs" (columnar) in
  // place: bare tensors are read in one pass, straight from the body.
  auto read_reply_value = [&](JsonReader* vr, bool rows) -> absl::Status {
    if (rows) {
      if (vr->Peek() != '[') return TfReplyError("'predictions' is not a list of rows");
      vr->Expect('[');
      std::int64_t count = 0;
      bool rfirst = true;
      while (vr->NextElement(&rfirst)) {
        const bool object = vr->Peek() == '{';
        if (single && (!object || sig.outputs[0].dtype == DataType::kBytes)) {
          if (!(*outs)[0].wanted) {
            if (!vr->SkipValue(1)) break;
          } else if (!vr->ReadTreeAs((*outs)[0].dtype, &(*outs)[0].sink, &(*outs)[0].ns, 1)) {
            return TfReplyError(absl::StrCat("output '", sig.outputs[0].name, "': ", vr->error()));
          }
        } else if (object) {
          if (absl::Status s = read_object(vr, 1, absl::StrCat("row ", count)); !s.ok()) return s;
        } else {
          return TfReplyError(absl::StrCat("row ", count, " is not an object keyed by output "
                                           "name, as a model with ", n_out, " outputs needs"));
        }
        ++count;
      }
      if (vr->failed()) return TfReplyError(absl::StrCat("malformed JSON: ", vr->error()));
      for (TfDecodedOutput& o : *outs) {
        o.ns.dims[0] = count;
        o.ns.dim_set[0] = true;
      }
      return absl::OkStatus();
    }
    const bool object = vr->Peek() == '{';
    if (object && !(single && sig.outputs[0].dtype == DataType::kBytes)) {
      return read_object(vr, 0, "'outputs'");
    }
    if (!single) {
      return TfReplyError(absl::StrCat("'outputs' is a bare tensor but the model has ", n_out,
                                       " outputs"));
    }
    if (!(*outs)[0].wanted) {
      if (!vr->SkipValue(1)) return TfReplyError(absl::StrCat("malformed JSON: ", vr->error()));
    } else if (!vr->ReadTreeAs((*outs)[0].dtype, &(*outs)[0].sink, &(*outs)[0].ns, 0)) {
      return TfReplyError(absl::StrCat("output '", sig.outputs[0].name, "': ", vr->error()));
    }
    return absl::OkStatus();
  };
  bool found = false;
  std::string error;
  std::string key;
  bool first = true;
  while (r.NextMember(&first, &key)) {
    bool ok;
    if (key == "predictions" || key == "outputs") {
      if (found) return TfReplyError("both 'predictions' and 'outputs'");
      found = true;
      if (absl::Status s = read_reply_value(&r, key == "predictions"); !s.ok()) return s;
      ok = true;
    } else if (key == "error" && r.Peek() == '"') {
      ok = r.ReadString(&error);
    } else {
      ok = r.SkipValue(1);
    }
    if (!ok) break;
  }
  if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
  if (r.failed()) return TfReplyError(absl::StrCat("malformed JSON: ", r.error()));
  if (!found) {
    return TfReplyError(error.empty()
                            ? std::string("no 'predictions' or 'outputs'")
                            : absl::StrCat("no 'predictions' or 'outputs'; error: ", error));
  }
  for (std::size_t j = 0; j < n_out; ++j) {
    TfDecodedOutput& o = (*outs)[j];
    if (!o.wanted) continue;
    o.sink.Finish();
    const int rank = o.ns.Rank();
    if (rank > static_cast<int>(Shape::kMaxRank)) {
      return TfReplyError(absl::StrCat("output '", sig.outputs[j].name, "' has more than ",
                                       Shape::kMaxRank, " dimensions"));
    }
    absl::StatusOr<Shape> got =
        Shape::FromDims(absl::MakeConstSpan(o.ns.dims, static_cast<std::size_t>(rank)));
    if (!got.ok()) return TfReplyError(got.status().message());
    const Shape want = sig.ExpectedOutputShape(j, batch);
    if (want.Matches(*got)) {
      o.shape = *got;
    } else if (want.is_fully_defined() &&
               static_cast<std::size_t>(want.num_elements()) == o.sink.count) {
      o.shape = want;
    } else {
      return TfReplyError(absl::StrCat("output '", sig.outputs[j].name, "': shape ",
                                       got->ToString(), " (", o.sink.count,
                                       " values), expected ", want.ToString()));
    }
  }
  return absl::OkStatus();
}

// Checks one input for encoding and collects BYTES elements.
inline absl::Status CheckTfInput(const ConstTensorView& in, bool need_name,
                                 std::vector<absl::string_view>* bytes_elems) {
  if (need_name && in.name().empty()) {
    return absl::InvalidArgumentError(
        "every input needs a name when a predict request has several inputs");
  }
  if (absl::Status s = in.CheckBuffer("input"); !s.ok()) return s;
  const DataType t = in.dtype();
  if (t == DataType::kFloat16 || t == DataType::kBFloat16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", in.name(), "': ", DataTypeName(t), " cannot be sent to TF Serving as JSON"));
  }
  bytes_elems->clear();
  if (t == DataType::kBytes) {
    std::size_t count = 0;
    const bool ok = (in.byte_size() == 0 || in.raw_data() != nullptr) &&
                    ForEachBytesElement(in.raw_data(), in.byte_size(),
                                        [&](absl::string_view e) { bytes_elems->push_back(e); },
                                        &count);
    const auto n = static_cast<std::size_t>(in.shape().num_elements());
    if (!ok || count != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name(), "': BYTES buffer does not hold ", n,
          " elements of 4-byte little-endian length + bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace detail

inline absl::Status TfServingEncodePredictRequest(absl::Span<const ConstTensorView> inputs,
                                                  TfServingFormat format,
                                                  absl::string_view signature_name,
                                                  EncodedRequest* out) {
  try {
    out->body.clear();
    out->header_length = 0;
    out->content_type = "application/json";
    if (inputs.empty()) {
      return absl::InvalidArgumentError("a predict request needs at least one input");
    }
    const bool single = inputs.size() == 1;
    std::vector<std::vector<absl::string_view>> bytes_elems(inputs.size());
    std::int64_t batch = -1;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const ConstTensorView& in = inputs[i];
      if (absl::Status s = detail::CheckTfInput(in, !single, &bytes_elems[i]); !s.ok()) return s;
      if (format == TfServingFormat::kRow) {
        if (in.shape().rank() == 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", in.name(), "': the row format needs a batch dimension, got a scalar"));
        }
        if (batch >= 0 && in.shape().dim(0) != batch) {
          return absl::InvalidArgumentError(absl::StrCat(
              "input '", in.name(), "': batch size ", in.shape().dim(0), " differs from ",
              batch, " of input '", inputs[0].name(), "' (the row format needs one)"));
        }
        batch = in.shape().dim(0);
      }
    }
    std::string& b = out->body;
    b.push_back('{');
    if (!signature_name.empty()) {
      b.append("\"signature_name\":");
      detail::AppendJsonString(&b, signature_name);
      b.push_back(',');
    }
    if (format == TfServingFormat::kColumnar) {
      b.append("\"inputs\":");
      if (single) {
        detail::AppendTfNested(&b, inputs[0], bytes_elems[0], inputs[0].shape().dims(), 0);
      } else {
        b.push_back('{');
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          if (i) b.push_back(',');
          detail::AppendJsonString(&b, inputs[i].name());
          b.push_back(':');
          detail::AppendTfNested(&b, inputs[i], bytes_elems[i], inputs[i].shape().dims(), 0);
        }
        b.push_back('}');
      }
    } else {
      b.append("\"instances\":");
      if (single) {
        detail::AppendTfNested(&b, inputs[0], bytes_elems[0], inputs[0].shape().dims(), 0);
      } else {
        b.push_back('[');
        for (std::int64_t row = 0; row < batch; ++row) {
          if (row) b.push_back(',');
          b.push_back('{');
          for (std::size_t i = 0; i < inputs.size(); ++i) {
            const ConstTensorView& in = inputs[i];
            const auto per_row =
                static_cast<std::size_t>(in.shape().num_elements() / std::max<std::int64_t>(batch, 1));
            if (i) b.push_back(',');
            detail::AppendJsonString(&b, in.name());
            b.push_back(':');
            detail::AppendTfNested(&b, in, bytes_elems[i], in.shape().dims().subspan(1),
                                   static_cast<std::size_t>(row) * per_row);
          }
          b.push_back('}');
        }
        b.push_back(']');
      }
    }
    b.push_back('}');
    return absl::OkStatus();
  } catch (const std::exception& e) {  // backstop (allocation failure)
    return absl::ResourceExhaustedError(absl::StrCat("tf serving request: ", e.what()));
  }
}

inline absl::StatusOr<InferResult> TfServingDecodePredictResponse(absl::string_view body,
                                                                  const ModelSignature& sig,
                                                                  std::int64_t batch) {
  try {
    std::vector<detail::TfDecodedOutput> outs(sig.outputs.size());
    for (auto& o : outs) o.wanted = true;
    if (absl::Status s = detail::DecodeTfPredictReply(body, sig, batch, &outs); !s.ok()) {
      return s;
    }
    InferResult result;
    result.model_name = sig.name;
    result.model_version = sig.version;
    for (std::size_t j = 0; j < outs.size(); ++j) {
      absl::StatusOr<Tensor> t = Tensor::FromBytes(sig.outputs[j].name, outs[j].dtype,
                                                   outs[j].shape, std::move(outs[j].bytes));
      if (!t.ok()) return detail::TfReplyError(t.status().message());
      result.outputs.push_back(std::move(*t));
    }
    return result;
  } catch (const std::exception& e) {  // backstop (allocation failure)
    return absl::ResourceExhaustedError(absl::StrCat("tf serving reply: ", e.what()));
  }
}

inline absl::Status TfServingDecodePredictResponseInto(absl::string_view body,
                                                       const ModelSignature& sig,
                                                       std::int64_t batch,
                                                       absl::Span<const TensorView> outputs) {
  try {
    absl::InlinedVector<TensorView, 8> ordered(sig.outputs.size());
    if (absl::Status s = sig.ValidateOutputs(outputs, batch, absl::MakeSpan(ordered), false);
        !s.ok()) {
      return s;
    }
    std::vector<detail::TfDecodedOutput> outs(sig.outputs.size());
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      const TensorView& v = ordered[j];
      if (v.dtype() == DataType::kInvalid && v.raw_data() == nullptr) continue;
      if (v.dtype() == DataType::kBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output '", sig.outputs[j].name,
            "': BYTES outputs are only returned by TfServingDecodePredictResponse"));
      }
      outs[j].wanted = true;
    }
    if (absl::Status s = detail::DecodeTfPredictReply(body, sig, batch, &outs); !s.ok()) {
      return s;
    }
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      if (!outs[j].wanted) continue;
      if (outs[j].shape != ordered[j].shape()) {
        return detail::TfReplyError(absl::StrCat("output '", sig.outputs[j].name, "': shape ",
                                                 outs[j].shape.ToString(), ", expected ",
                                                 ordered[j].shape().ToString()));
      }
    }
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      if (!outs[j].wanted || ordered[j].byte_size() == 0) continue;
      std::memcpy(ordered[j].raw_data(), outs[j].bytes.data(), ordered[j].byte_size());
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {  // backstop (allocation failure)
    return absl::ResourceExhaustedError(absl::StrCat("tf serving reply: ", e.what()));
  }
}

namespace detail {

// The TF Serving model status reply ({"model_version_status": [{"version",
// "state", "status": {"error_code", "error_message"}}]}).
inline absl::StatusOr<std::vector<TfServingModelVersionStatus>> DecodeTfModelStatusJson(
    absl::string_view body) {
  constexpr absl::string_view kWhat = "tf serving model status";
  try {
    JsonReader r(body);
    if (r.Peek() != '{') {
      return absl::DataLossError(absl::StrCat(kWhat, ": no 'model_version_status' list"));
    }
    std::vector<TfServingModelVersionStatus> out;
    bool has_list = false;
    ObjectReader top(&r);
    while (top.Next()) {
      if (top.key() != "model_version_status" || r.Peek() != '[') {
        if (!r.SkipValue(1)) break;
        continue;
      }
      has_list = true;
      r.Expect('[');
      bool first = true;
      while (r.NextElement(&first)) {
        if (r.Peek() != '{') return absl::DataLossError(absl::StrCat(kWhat, ": an entry is not an object"));
        TfServingModelVersionStatus st;
        ObjectReader e(&r);
        while (e.Next()) {
          if (e.key() == "version") {
            if (!ReadScalarText(&r, &st.version)) break;
          } else if (e.key() == "state") {
            if (!ReadScalarText(&r, &st.state)) break;
          } else if (e.key() == "status" && r.Peek() == '{') {
            ObjectReader status(&r);
            while (status.Next()) {
              if (status.key() == "error_code") {
                if (!ReadScalarText(&r, &st.error_code)) break;
              } else if (status.key() == "error_message") {
                if (!ReadScalarText(&r, &st.error_message)) break;
              } else if (!r.SkipValue(1)) {
                break;
              }
            }
            if (r.failed()) break;
          } else if (!r.SkipValue(1)) {
            break;
          }
        }
        if (r.failed()) break;
        if (st.error_code.empty()) st.error_code = "OK";  // proto3 JSON omits defaults
        out.push_back(std::move(st));
      }
      if (r.failed()) break;
    }
    if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
    if (r.failed()) return ReaderError(kWhat, r);
    if (!has_list) return absl::DataLossError(absl::StrCat(kWhat, ": no 'model_version_status' list"));
    return out;
  } catch (...) {
    return CurrentExceptionStatus(kWhat);
  }
}

}  // namespace detail

inline absl::StatusOr<std::vector<TfServingModelVersionStatus>> TfServingDecodeModelStatus(
    absl::string_view body) {
  return detail::DecodeTfModelStatusJson(body);
}

inline absl::StatusOr<ModelMetadata> TfServingDecodeModelMetadata(
    absl::string_view body, absl::string_view signature_name) {
  return detail::DecodeTfModelMetadataJson(body, signature_name);
}

inline std::string TfServingPredictPath(absl::string_view model,
                                        absl::string_view version,
                                        absl::string_view label) {
  return detail::TfServingModelPath(model, version, label, ":predict");
}
inline std::string TfServingModelStatusPath(absl::string_view model,
                                            absl::string_view version,
                                            absl::string_view label) {
  return detail::TfServingModelPath(model, version, label, "");
}
inline std::string TfServingModelMetadataPath(absl::string_view model,
                                              absl::string_view version,
                                              absl::string_view label) {
  return detail::TfServingModelPath(model, version, label, "/metadata");
}

inline std::string TfServingErrorMessage(absl::string_view body) {
  return detail::ErrorMessageFromBody(body);
}

}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_TF_SERVING_V1_CODEC_IMPL_H_
