// Implementation of maas/remote/kserve_v2_codec.h. Include that header, not
// this one.

#ifndef MAAS_REMOTE_DETAIL_KSERVE_V2_CODEC_IMPL_H_
#define MAAS_REMOTE_DETAIL_KSERVE_V2_CODEC_IMPL_H_

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
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/shape.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/remote/detail/codec_json_reader.h"
#include "maas/remote/detail/codec_text.h"
#include "maas/remote/detail/codec_metadata.h"
#include "maas/remote/inference.h"

namespace maas {

namespace detail {

inline std::string KServeV2ModelPath(absl::string_view model,
                                     absl::string_view version,
                                     absl::string_view suffix) {
  std::string p = "/v2/models/";
  AppendPathSegment(&p, model);
  if (!version.empty()) {
    p += "/versions/";
    AppendPathSegment(&p, version);
  }
  p.append(suffix.data(), suffix.size());
  return p;
}

}  // namespace detail

namespace detail {

// One entry of a reply's "outputs", before its data is read.
struct KServeV2OutputDesc {
  std::string name;
  std::string datatype;
  Shape shape;
  bool has_shape = false;
  bool has_data = false;
  absl::string_view data;       // the JSON text of "data"
  std::size_t data_offset = 0;  // its byte offset in the body
  std::int64_t binary_size = -1;
  std::size_t binary_offset = 0;  // into the body
  // "data" already read in the reply's datatype while parsing the envelope
  // (when datatype and shape came before it, as servers write them).
  bool decoded = false;
  DataType decoded_dtype = DataType::kInvalid;
  std::vector<std::byte> decoded_bytes;
  std::size_t decoded_count = 0;
};

struct KServeV2Envelope {
  std::string model_name;
  std::string model_version;
  std::string id;
  bool has_outputs = false;
  std::string error;
  std::vector<KServeV2OutputDesc> outputs;
};

inline absl::Status KServeV2ReplyError(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("kserve v2 reply: ", what));
}

// Reads a string, or any other scalar as its JSON text (versions and ids are
// numbers on some servers); null (KServe's missing version) reads as "".
inline bool ReadStringOrScalarText(JsonReader* r, std::string* out) {
  if (r->Peek() == '"') return r->ReadString(out);
  absl::string_view span;
  if (!r->SkipValueSpan(&span)) return false;
  if (span == "null") {
    out->clear();
  } else {
    out->assign(span.data(), span.size());
  }
  return true;
}

// Reads a reply shape: an array of at most Shape::kMaxRank non-negative
// integers whose product fits int64.
inline bool ReadReplyShape(JsonReader* r, Shape* shape) {
  if (!r->Expect('[')) return false;
  std::int64_t dims[Shape::kMaxRank];
  std::size_t rank = 0;
  bool first = true;
  while (r->NextElement(&first)) {
    std::int64_t d = 0;
    if (!r->ReadInt64(&d)) return false;
    if (d < 0) return r->Fail(absl::StrCat("negative dimension ", d, " in shape"));
    if (rank == Shape::kMaxRank) {
      return r->Fail(absl::StrCat("shape has more than ", Shape::kMaxRank, " dimensions"));
    }
    dims[rank++] = d;
  }
  if (r->failed()) return false;
  absl::StatusOr<Shape> s = Shape::FromDims(absl::MakeConstSpan(dims, rank));
  if (!s.ok()) return r->Fail(s.status().message());
  if (s->num_elements() < 0) {
    return r->Fail(absl::StrCat("shape ", s->ToString(), " has more than 2^63 elements"));
  }
  *shape = *s;
  return true;
}

// Marks `key` (bit `bit` of `*seen`) as read; a second occurrence fails the
// reader. Decoders act on the keys they interpret exactly once: with a key
// repeated, the data would be read under one datatype or shape and used
// under another.
inline bool FirstOccurrence(JsonReader* r, unsigned* seen, unsigned bit,
                            absl::string_view key, absl::string_view where) {
  if ((*seen & bit) != 0) {
    return r->Fail(absl::StrCat(where, "key '", key, "' appears twice"));
  }
  *seen |= bit;
  return true;
}

inline bool ReadKServeV2Output(JsonReader* r, KServeV2OutputDesc* o, std::size_t index) {
  if (!r->Expect('{')) return false;
  std::string key;
  bool first = true;
  unsigned seen = 0;
  const std::string where = absl::StrCat("output #", index, ": ");
  while (r->NextMember(&first, &key)) {
    unsigned bit = 0;
    if (key == "name") bit = 1;
    if (key == "datatype") bit = 2;
    if (key == "shape") bit = 4;
    if (key == "data") bit = 8;
    if (key == "parameters") bit = 16;
    if (bit != 0 && !FirstOccurrence(r, &seen, bit, key, where)) return false;
    if (key == "name") {
      if (!r->ReadString(&o->name)) return false;
    } else if (key == "datatype") {
      if (!r->ReadString(&o->datatype)) return false;
    } else if (key == "shape") {
      if (!ReadReplyShape(r, &o->shape)) return false;
      o->has_shape = true;
    } else if (key == "data") {
      r->SkipWs();
      o->data_offset = r->offset();
      const char* start = r->pos();
      absl::StatusOr<DataType> dtype = ParseDataType(o->datatype);
      const std::size_t elem = dtype.ok() ? DataTypeSize(*dtype) : 0;
      const auto n = static_cast<std::size_t>(o->has_shape ? o->shape.num_elements() : 0);
      if (o->has_shape && elem > 0 && *dtype != DataType::kFloat16 &&
          *dtype != DataType::kBFloat16 && n <= r->remaining()) {
        // One pass: read the numbers now instead of skipping them.
        o->decoded_bytes.resize(n * elem);
        FixedSink sink{o->decoded_bytes.data(), n};
        NestShape ns;
        if (!r->ReadTreeAs(*dtype, &sink, &ns, 0)) {
          r->AddErrorContext(absl::StrCat(
              "output '", o->name.empty() ? std::string("?") : o->name, "': "));
          return false;
        }
        o->decoded = true;
        o->decoded_dtype = *dtype;
        o->decoded_count = sink.count;
        o->data = absl::string_view(start, static_cast<std::size_t>(r->pos() - start));
      } else if (!r->SkipValueSpan(&o->data)) {
        return false;
      }
      o->has_data = true;
    } else if (key == "parameters" && r->Peek() == '{') {
      r->Expect('{');
      std::string pkey;
      bool pfirst = true;
      unsigned pseen = 0;
      while (r->NextMember(&pfirst, &pkey)) {
        if (pkey == "binary_data_size") {
          if (!FirstOccurrence(r, &pseen, 1, pkey, where)) return false;
          std::int64_t n = 0;
          if (!r->ReadInt64(&n)) return false;
          if (n < 0) return r->Fail(absl::StrCat("negative binary_data_size ", n));
          o->binary_size = n;
        } else if (!r->SkipValue(1)) {
          return false;
        }
      }
      if (r->failed()) return false;
    } else if (!r->SkipValue(1)) {
      return false;
    }
  }
  return !r->failed();
}

// Reads the JSON header of a reply and places the binary outputs in `body`.
inline absl::Status ParseKServeV2Envelope(absl::string_view body,
                                          std::size_t header_length,
                                          KServeV2Envelope* env) {
  if (header_length > body.size()) {
    return KServeV2ReplyError(absl::StrCat(
        "Inference-Header-Content-Length is ", header_length,
        " but the body has only ", body.size(), " bytes"));
  }
  const absl::string_view json =
      header_length > 0 ? body.substr(0, header_length) : body;
  JsonReader r(json);
  if (r.Peek() != '{') {
    return KServeV2ReplyError(absl::StrCat("expected a JSON object but ", r.Found()));
  }
  r.Expect('{');
  std::string key;
  bool first = true;
  unsigned seen = 0;
  while (r.NextMember(&first, &key)) {
    bool ok = true;
    unsigned bit = 0;
    if (key == "model_name") bit = 1;
    if (key == "model_version") bit = 2;
    if (key == "id") bit = 4;
    if (key == "error") bit = 8;
    if (key == "outputs") bit = 16;
    if (bit != 0 && !FirstOccurrence(&r, &seen, bit, key, "")) break;
    if (key == "model_name") {
      ok = ReadStringOrScalarText(&r, &env->model_name);
    } else if (key == "model_version") {
      ok = ReadStringOrScalarText(&r, &env->model_version);
    } else if (key == "id") {
      ok = ReadStringOrScalarText(&r, &env->id);
    } else if (key == "error") {
      ok = ReadStringOrScalarText(&r, &env->error);
    } else if (key == "outputs") {
      ok = r.Expect('[');
      env->has_outputs = true;
      bool ofirst = true;
      while (ok && r.NextElement(&ofirst)) {
        env->outputs.emplace_back();
        ok = ReadKServeV2Output(&r, &env->outputs.back(), env->outputs.size() - 1);
      }
      ok = ok && !r.failed();
    } else {
      ok = r.SkipValue(1);
    }
    if (!ok) break;
  }
  if (r.failed()) {
    const bool data_error = absl::StartsWith(r.error(), "output ") ||
                            absl::StrContains(r.error(), "appears twice");
    return KServeV2ReplyError(data_error ? r.error() : absl::StrCat("malformed JSON: ", r.error()));
  }
  const std::size_t json_end = r.offset();
  bool any_binary = false;
  for (const KServeV2OutputDesc& o : env->outputs) any_binary |= o.binary_size >= 0;
  if (header_length > 0 || !any_binary) {
    if (!r.AtEnd()) {
      return KServeV2ReplyError(absl::StrCat("unexpected text after the JSON at byte ",
                                             r.offset()));
    }
  }
  if (!env->has_outputs) {
    return KServeV2ReplyError(
        env->error.empty() ? std::string("no 'outputs' list")
                           : absl::StrCat("no 'outputs' list; error: ", env->error));
  }
  std::size_t pos = header_length > 0 ? header_length : json_end;
  if (!any_binary) {
    pos = body.size();
  } else if (header_length == 0) {
    // Without a header length the binary data is the body's tail: place it
    // from the end, allowing blanks (a trailing newline) after the JSON.
    std::uint64_t total = 0;
    for (const KServeV2OutputDesc& o : env->outputs) {
      if (o.binary_size >= 0) total += static_cast<std::uint64_t>(o.binary_size);
      if (total > body.size()) break;
    }
    if (total <= body.size() - json_end) {
      const std::size_t start = body.size() - static_cast<std::size_t>(total);
      std::size_t k = json_end;
      while (k < start && (body[k] == ' ' || body[k] == '\n' || body[k] == '\r' || body[k] == '\t')) ++k;
      if (k != start) {
        return KServeV2ReplyError(absl::StrCat(
            start - json_end, " bytes after the JSON are not claimed by any output"));
      }
      pos = start;
    }
  }
  for (std::size_t i = 0; i < env->outputs.size(); ++i) {
    KServeV2OutputDesc& o = env->outputs[i];
    if (o.name.empty()) {
      return KServeV2ReplyError(absl::StrCat("output #", i, " has no name"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (env->outputs[j].name == o.name) {
        return KServeV2ReplyError(absl::StrCat("output '", o.name, "' appears twice (#", j,
                                               " and #", i, ")"));
      }
    }
    if (o.binary_size < 0) continue;
    const auto size = static_cast<std::uint64_t>(o.binary_size);
    if (size > body.size() - pos) {
      return KServeV2ReplyError(absl::StrCat(
          "output '", o.name, "': binary_data_size ", o.binary_size,
          " goes past the end of the body (", body.size() - pos, " bytes left)"));
    }
    o.binary_offset = pos;
    pos += static_cast<std::size_t>(size);
  }
  if (pos != body.size()) {
    return KServeV2ReplyError(absl::StrCat(
        body.size() - pos, " bytes after the JSON are not claimed by any output"));
  }
  return absl::OkStatus();
}

inline absl::StatusOr<DataType> KServeV2ReplyDataType(const KServeV2OutputDesc& o) {
  absl::StatusOr<DataType> t = ParseDataType(o.datatype);
  if (!t.ok()) {
    return KServeV2ReplyError(absl::StrCat("output '", o.name, "': unknown datatype '",
                                           o.datatype, "'"));
  }
  return t;
}

// Guards an allocation: JSON needs at least one byte per value.
inline absl::Status CheckJsonDataFits(const KServeV2OutputDesc& o, std::size_t n) {
  if (n > o.data.size()) {
    return KServeV2ReplyError(absl::StrCat("output '", o.name, "': shape ",
                                           o.shape.ToString(), " needs ", n,
                                           " values but 'data' is only ",
                                           o.data.size(), " bytes long"));
  }
  return absl::OkStatus();
}

inline absl::Status KServeV2DataCountError(const KServeV2OutputDesc& o,
                                           std::size_t got, std::size_t want) {
  return KServeV2ReplyError(absl::StrCat("output '", o.name, "': 'data' has ", got,
                                         " values but shape ", o.shape.ToString(),
                                         " needs ", want));
}

// Copies binary elements, normalising BOOL bytes to 0/1.
inline void CopyBinaryElements(DataType dtype, const char* src, std::size_t size,
                               void* dst) {
  if (dtype == DataType::kBool) {
    auto* d = static_cast<unsigned char*>(dst);
    for (std::size_t i = 0; i < size; ++i) d[i] = src[i] != 0 ? 1 : 0;
  } else if (size > 0) {
    std::memcpy(dst, src, size);
  }
}

inline absl::StatusOr<Tensor> DecodeKServeV2Output(absl::string_view body,
                                                   KServeV2OutputDesc& o) {
  absl::StatusOr<DataType> dtype = KServeV2ReplyDataType(o);
  if (!dtype.ok()) return dtype.status();
  if (!o.has_shape) return KServeV2ReplyError(absl::StrCat("output '", o.name, "' has no shape"));
  const auto n = static_cast<std::size_t>(o.shape.num_elements());
  const std::size_t elem = DataTypeSize(*dtype);
  std::vector<std::byte> bytes;
  if (o.binary_size >= 0) {
    const auto size = static_cast<std::size_t>(o.binary_size);
    const char* src = body.data() + o.binary_offset;
    if (*dtype == DataType::kBytes) {
      std::size_t count = 0;
      if (!ForEachBytesElement(src, size, [](absl::string_view) {}, &count)) {
        return KServeV2ReplyError(absl::StrCat("output '", o.name,
                                               "': malformed BYTES binary data"));
      }
      if (count != n) return KServeV2DataCountError(o, count, n);
    } else if (n > size / elem || n * elem != size) {
      return KServeV2ReplyError(absl::StrCat(
          "output '", o.name, "': binary_data_size ", size, " but ",
          DataTypeName(*dtype), o.shape.ToString(), " needs ",
          n > size / elem ? absl::StrCat("more") : absl::StrCat(n * elem), " bytes"));
    }
    bytes.resize(size);
    CopyBinaryElements(*dtype, src, size, bytes.data());
  } else {
    if (!o.has_data) {
      return KServeV2ReplyError(absl::StrCat(
          "output '", o.name, "' has neither 'data' nor binary_data_size"));
    }
    if (*dtype == DataType::kFloat16 || *dtype == DataType::kBFloat16) {
      return KServeV2ReplyError(absl::StrCat(
          "output '", o.name, "': ", DataTypeName(*dtype),
          " data in JSON is not supported; request binary outputs"));
    }
    if (absl::Status s = CheckJsonDataFits(o, n); !s.ok()) return s;
    JsonReader r(o.data, o.data_offset);
    NestShape ns;
    std::size_t count;
    bool ok = true;
    if (o.decoded && o.decoded_dtype == *dtype &&
        o.decoded_bytes.size() == n * elem) {
      bytes = std::move(o.decoded_bytes);
      count = o.decoded_count;
    } else if (o.decoded) {
      return KServeV2ReplyError(absl::StrCat("output '", o.name,
                                             "': data decoded under another datatype or shape"));
    } else if (*dtype == DataType::kBytes) {
      GrowSink sink{&bytes};
      ok = r.ReadTreeAs(*dtype, &sink, &ns, 0);
      sink.Finish();
      count = sink.count;
    } else {
      bytes.resize(n * elem);
      FixedSink sink{bytes.data(), n};
      ok = r.ReadTreeAs(*dtype, &sink, &ns, 0);
      count = sink.count;
    }
    if (!ok) {
      return KServeV2ReplyError(absl::StrCat("output '", o.name, "': ", r.error()));
    }
    if (count != n) return KServeV2DataCountError(o, count, n);
  }
  absl::StatusOr<Tensor> t = Tensor::FromBytes(o.name, *dtype, o.shape, std::move(bytes));
  if (!t.ok()) return KServeV2ReplyError(t.status().message());
  return t;
}

inline std::string KServeV2OutputNames(const KServeV2Envelope& env) {
  if (env.outputs.empty()) return "none";
  return absl::StrJoin(env.outputs, ", ", [](std::string* out, const KServeV2OutputDesc& o) {
    absl::StrAppend(out, "'", o.name, "'");
  });
}

// Appends one request parameter value.
inline absl::Status AppendKServeV2Parameter(std::string* out, absl::string_view name,
                                            const ParameterValue& v) {
  AppendJsonString(out, name);
  out->push_back(':');
  char buf[kMaxNumberChars];
  if (v.is_string()) {
    AppendJsonString(out, v.string_value());
  } else if (v.is_bool()) {
    out->append(v.bool_value() ? "true" : "false");
  } else if (v.is_int()) {
    out->append(buf, static_cast<std::size_t>(FormatNumber(buf, v.int_value()) - buf));
  } else {
    if (!std::isfinite(v.double_value())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter '", name, "': ", v.double_value(), " is not a finite number"));
    }
    out->append(buf, static_cast<std::size_t>(FormatNumber(buf, v.double_value()) - buf));
  }
  return absl::OkStatus();
}

// Checks one input for encoding; sets *bytes_count for BYTES inputs.
inline absl::Status CheckKServeV2Input(const ConstTensorView& in, std::size_t index) {
  if (in.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("input #", index, " has no name"));
  }
  if (absl::Status s = in.CheckBuffer("input"); !s.ok()) return s;
  if (in.dtype() == DataType::kBytes) {
    std::size_t count = 0;
    if ((in.byte_size() > 0 && in.raw_data() == nullptr) ||
        !ForEachBytesElement(in.raw_data(), in.byte_size(), [](absl::string_view) {}, &count)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name(), "': malformed BYTES buffer (each element is a 4-byte "
          "little-endian length followed by the bytes)"));
    }
    const auto n = static_cast<std::size_t>(in.shape().num_elements());
    if (count != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", in.name(), "': shape ", in.shape().ToString(), " needs ", n,
          " BYTES elements but the buffer holds ", count));
    }
  }
  return absl::OkStatus();
}

}  // namespace detail

inline absl::Status KServeV2EncodeInferRequest(absl::Span<const ConstTensorView> inputs,
                                               const InferRequestOptions& opts,
                                               EncodedRequest* out) {
  out->body.clear();
  out->header_length = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (absl::Status s = detail::CheckKServeV2Input(inputs[i], i); !s.ok()) return s;
    const DataType t = inputs[i].dtype();
    if (!opts.binary_inputs && (t == DataType::kFloat16 || t == DataType::kBFloat16)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", inputs[i].name(), "': ", DataTypeName(t),
          " data can only be sent with the binary extension (set binary_inputs)"));
    }
  }
  std::string& b = out->body;
  b.push_back('{');
  bool need_comma = false;
  if (!opts.id.empty()) {
    b.append("\"id\":");
    detail::AppendJsonString(&b, opts.id);
    need_comma = true;
  }
  bool user_sets_binary_output = false;
  for (const auto& p : opts.parameters) user_sets_binary_output |= p.first == "binary_data_output";
  if (!opts.parameters.empty() || (opts.binary_outputs && !user_sets_binary_output)) {
    if (need_comma) b.push_back(',');
    b.append("\"parameters\":{");
    bool pc = false;
    for (const auto& p : opts.parameters) {
      if (pc) b.push_back(',');
      if (absl::Status s = detail::AppendKServeV2Parameter(&b, p.first, p.second); !s.ok()) {
        return s;
      }
      pc = true;
    }
    if (opts.binary_outputs && !user_sets_binary_output) {
      if (pc) b.push_back(',');
      b.append("\"binary_data_output\":true");
    }
    b.push_back('}');
    need_comma = true;
  }
  if (need_comma) b.push_back(',');
  b.append("\"inputs\":[");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const ConstTensorView& in = inputs[i];
    if (i) b.push_back(',');
    b.append("{\"name\":");
    detail::AppendJsonString(&b, in.name());
    b.append(",\"shape\":");
    detail::AppendShape(&b, in.shape().dims());
    b.append(",\"datatype\":\"");
    const absl::string_view dt = DataTypeName(in.dtype());
    b.append(dt.data(), dt.size());
    b.push_back('"');
    if (opts.binary_inputs) {
      b.append(",\"parameters\":{\"binary_data_size\":");
      char buf[detail::kMaxNumberChars];
      b.append(buf, static_cast<std::size_t>(detail::FormatNumber(buf, in.byte_size()) - buf));
      b.append("}}");
      continue;
    }
    b.append(",\"data\":");
    if (in.dtype() == DataType::kBytes) {
      b.push_back('[');
      bool utf8 = true;
      bool ec = false;
      std::size_t count = 0;
      detail::ForEachBytesElement(in.raw_data(), in.byte_size(), [&](absl::string_view e) {
        if (!detail::IsValidUtf8(e)) utf8 = false;
        if (ec) b.push_back(',');
        detail::AppendJsonString(&b, e);
        ec = true;
      }, &count);
      if (!utf8) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input '", in.name(), "': BYTES elements that are not UTF-8 text can only be "
            "sent with the binary extension (set binary_inputs)"));
      }
      b.push_back(']');
    } else {
      detail::AppendJsonArrayAs(&b, in.dtype(), in.raw_data(),
                                static_cast<std::size_t>(in.shape().num_elements()));
    }
    b.push_back('}');
  }
  b.push_back(']');
  if (!opts.outputs.empty()) {
    b.append(",\"outputs\":[");
    for (std::size_t i = 0; i < opts.outputs.size(); ++i) {
      if (i) b.push_back(',');
      b.append("{\"name\":");
      detail::AppendJsonString(&b, opts.outputs[i]);
      if (opts.binary_outputs) b.append(",\"parameters\":{\"binary_data\":true}");
      b.push_back('}');
    }
    b.push_back(']');
  }
  b.push_back('}');
  if (opts.binary_inputs) {
    out->header_length = b.size();
    std::size_t total = b.size();
    for (const ConstTensorView& in : inputs) total += in.byte_size();
    b.reserve(total);
    for (const ConstTensorView& in : inputs) {
      if (in.byte_size() > 0) {
        b.append(static_cast<const char*>(in.raw_data()), in.byte_size());
      }
    }
    out->content_type = "application/octet-stream";
  } else {
    out->content_type = "application/json";
  }
  return absl::OkStatus();
}

inline absl::StatusOr<InferResult> KServeV2DecodeInferResponse(absl::string_view body,
                                                               std::size_t header_length) {
  try {
    detail::KServeV2Envelope env;
    if (absl::Status s = detail::ParseKServeV2Envelope(body, header_length, &env); !s.ok()) {
      return s;
    }
    InferResult result;
    result.model_name = std::move(env.model_name);
    result.model_version = std::move(env.model_version);
    result.id = std::move(env.id);
    result.outputs.reserve(env.outputs.size());
    for (detail::KServeV2OutputDesc& o : env.outputs) {
      absl::StatusOr<Tensor> t = detail::DecodeKServeV2Output(body, o);
      if (!t.ok()) return t.status();
      result.outputs.push_back(std::move(*t));
    }
    return result;
  } catch (const std::exception& e) {  // backstop (allocation failure)
    return absl::ResourceExhaustedError(absl::StrCat("kserve v2 reply: ", e.what()));
  }
}

inline absl::Status KServeV2DecodeInferResponseInto(absl::string_view body,
                                                    std::size_t header_length,
                                                    const ModelSignature& sig,
                                                    std::int64_t batch,
                                                    absl::Span<const TensorView> outputs) {
  try {
    absl::InlinedVector<TensorView, 8> ordered(sig.outputs.size());
    if (absl::Status s = sig.ValidateOutputs(outputs, batch, absl::MakeSpan(ordered), false);
        !s.ok()) {
      return s;
    }
    detail::KServeV2Envelope env;
    if (absl::Status s = detail::ParseKServeV2Envelope(body, header_length, &env); !s.ok()) {
      return s;
    }
    struct Plan {
      const TensorView* view;
      const detail::KServeV2OutputDesc* desc;
      std::size_t scratch_offset;
    };
    absl::InlinedVector<Plan, 8> plans;
    std::size_t scratch_bytes = 0;
    for (std::size_t i = 0; i < ordered.size(); ++i) {
      const TensorView& v = ordered[i];
      if (v.dtype() == DataType::kInvalid && v.raw_data() == nullptr) continue;
      const std::string& name = sig.outputs[i].name;
      if (v.dtype() == DataType::kBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "output '", name, "': BYTES outputs are only returned by KServeV2DecodeInferResponse"));
      }
      const detail::KServeV2OutputDesc* o = nullptr;
      for (const auto& d : env.outputs) {
        if (d.name == name) {
          o = &d;
          break;
        }
      }
      if (o == nullptr) {
        return detail::KServeV2ReplyError(absl::StrCat(
            "no output '", name, "' (the reply has ", detail::KServeV2OutputNames(env), ")"));
      }
      absl::StatusOr<DataType> dtype = detail::KServeV2ReplyDataType(*o);
      if (!dtype.ok()) return dtype.status();
      if (!o->has_shape) {
        return detail::KServeV2ReplyError(absl::StrCat("output '", name, "' has no shape"));
      }
      if (o->shape != v.shape()) {
        return detail::KServeV2ReplyError(absl::StrCat(
            "output '", name, "': shape ", o->shape.ToString(), ", expected ",
            v.shape().ToString()));
      }
      std::size_t offset = 0;
      if (o->binary_size >= 0) {
        if (*dtype != v.dtype()) {
          return detail::KServeV2ReplyError(absl::StrCat(
              "output '", name, "': datatype ", DataTypeName(*dtype), ", expected ",
              DataTypeName(v.dtype()), " (binary data is not converted)"));
        }
        if (static_cast<std::uint64_t>(o->binary_size) != v.byte_size()) {
          return detail::KServeV2ReplyError(absl::StrCat(
              "output '", name, "': binary_data_size ", o->binary_size, " but ",
              DataTypeName(v.dtype()), v.shape().ToString(), " needs ", v.byte_size(),
              " bytes"));
        }
      } else {
        if (*dtype == DataType::kBytes || *dtype == DataType::kFloat16 ||
            *dtype == DataType::kBFloat16) {
          return detail::KServeV2ReplyError(absl::StrCat(
              "output '", name, "': ", DataTypeName(*dtype), " JSON data cannot be read as ",
              DataTypeName(v.dtype())));
        }
        if (!o->has_data) {
          return detail::KServeV2ReplyError(absl::StrCat(
              "output '", name, "' has neither 'data' nor binary_data_size"));
        }
        const auto n = static_cast<std::size_t>(v.shape().num_elements());
        if (absl::Status s = detail::CheckJsonDataFits(*o, n); !s.ok()) return s;
        if (o->decoded && *dtype == v.dtype()) {
          if (o->decoded_count != n) return detail::KServeV2DataCountError(*o, o->decoded_count, n);
          // Never copy more bytes than were decoded, whatever the envelope says.
          if (o->decoded_dtype != v.dtype() || o->decoded_bytes.size() != v.byte_size()) {
            return detail::KServeV2ReplyError(absl::StrCat(
                "output '", name, "': data decoded under another datatype or shape"));
          }
        } else {
          offset = scratch_bytes;
          scratch_bytes += (v.byte_size() + 7) & ~std::size_t{7};
        }
      }
      plans.push_back(Plan{&v, o, offset});
    }
    // Read every JSON output into per-thread scratch; the caller's buffers
    // are written only once everything has been read.
    static thread_local std::vector<std::byte> scratch;
    if (scratch.size() < scratch_bytes) scratch.resize(scratch_bytes);
    auto read_already = [](const Plan& p) {
      return p.desc->decoded && p.desc->decoded_dtype == p.view->dtype() &&
             ParseDataType(p.desc->datatype).value_or(DataType::kInvalid) == p.view->dtype() &&
             p.desc->decoded_bytes.size() == p.view->byte_size();
    };
    for (const Plan& p : plans) {
      if (p.desc->binary_size >= 0 || read_already(p)) continue;
      const auto n = static_cast<std::size_t>(p.view->shape().num_elements());
      detail::JsonReader r(p.desc->data, p.desc->data_offset);
      detail::NestShape ns;
      detail::FixedSink sink{scratch.data() + p.scratch_offset, n};
      if (!r.ReadTreeAs(p.view->dtype(), &sink, &ns, 0)) {
        return detail::KServeV2ReplyError(absl::StrCat("output '", p.desc->name, "': ", r.error()));
      }
      if (sink.count != n) return detail::KServeV2DataCountError(*p.desc, sink.count, n);
    }
    for (const Plan& p : plans) {
      if (p.desc->binary_size >= 0) {
        detail::CopyBinaryElements(p.view->dtype(), body.data() + p.desc->binary_offset,
                                   p.view->byte_size(), p.view->raw_data());
      } else if (p.view->byte_size() > 0) {
        const std::byte* src = read_already(p) ? p.desc->decoded_bytes.data()
                                               : scratch.data() + p.scratch_offset;
        std::memcpy(p.view->raw_data(), src, p.view->byte_size());
      }
    }
    if (scratch.size() > (std::size_t{16} << 20)) {
      scratch.clear();
      scratch.shrink_to_fit();
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {  // backstop (allocation failure)
    return absl::ResourceExhaustedError(absl::StrCat("kserve v2 reply: ", e.what()));
  }
}

inline absl::StatusOr<ModelMetadata> KServeV2DecodeModelMetadata(absl::string_view body) {
  return detail::DecodeKServeV2ModelMetadataJson(body);
}

inline absl::StatusOr<ServerMetadata> KServeV2DecodeServerMetadata(absl::string_view body) {
  return detail::DecodeKServeV2ServerMetadataJson(body);
}

inline absl::StatusOr<std::vector<RepositoryModel>> KServeV2DecodeRepositoryIndex(
    absl::string_view body) {
  return detail::DecodeKServeV2RepositoryIndexJson(body);
}

inline std::string KServeV2InferPath(absl::string_view model,
                                     absl::string_view version) {
  return detail::KServeV2ModelPath(model, version, "/infer");
}
inline std::string KServeV2ModelMetadataPath(absl::string_view model,
                                             absl::string_view version) {
  return detail::KServeV2ModelPath(model, version, "");
}
inline std::string KServeV2ModelReadyPath(absl::string_view model,
                                          absl::string_view version) {
  return detail::KServeV2ModelPath(model, version, "/ready");
}
inline std::string KServeV2ServerLivePath() { return "/v2/health/live"; }
inline std::string KServeV2ServerReadyPath() { return "/v2/health/ready"; }
inline std::string KServeV2ServerMetadataPath() { return "/v2"; }
inline std::string KServeV2RepositoryIndexPath() { return "/v2/repository/index"; }
inline std::string KServeV2RepositoryLoadPath(absl::string_view model) {
  std::string p = "/v2/repository/models/";
  detail::AppendPathSegment(&p, model);
  return p + "/load";
}
inline std::string KServeV2RepositoryUnloadPath(absl::string_view model) {
  std::string p = "/v2/repository/models/";
  detail::AppendPathSegment(&p, model);
  return p + "/unload";
}

inline std::string KServeV2ErrorMessage(absl::string_view body) {
  return detail::ErrorMessageFromBody(body);
}

}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_KSERVE_V2_CODEC_IMPL_H_
