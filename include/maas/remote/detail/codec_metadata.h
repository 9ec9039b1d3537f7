// Internal decoders of the small metadata replies (server and model metadata,
// repository index, TF Serving status and metadata). They read with the
// streaming `JsonReader` (codec_json_reader.h), not a DOM: its nesting is
// bounded, nothing recurses without limit, a key repeated in one object is
// an error (`ObjectReader`), and an allocation failure is an exception the
// decoder's own `catch` turns into a status (freeing an nlohmann DOM, by
// contrast, allocates inside a destructor, where a failure terminates).
// Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_CODEC_METADATA_H_
#define MAAS_REMOTE_DETAIL_CODEC_METADATA_H_

#include <algorithm>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "maas/core/data_type.h"
#include "maas/core/detail/exception.h"
#include "maas/core/model_signature.h"
#include "maas/core/shape.h"
#include "maas/remote/detail/codec_json_reader.h"
#include "maas/remote/inference.h"

namespace maas {
namespace detail {

// ObjectReader
//
// Iterates the members of a JSON object, failing the reader when a key
// repeats (the message names it).
//
//   ObjectReader obj(&r);
//   while (obj.Next()) { if (obj.key() == "name") ...; else r.SkipValue(1); }
//   if (r.failed()) ...
class ObjectReader {
 public:
  // Starts the object; fails the reader unless the next value is one.
  explicit ObjectReader(JsonReader* r) : r_(r) { ok_ = r_->Expect('{'); }

  // True with key() set while members remain (the value follows).
  bool Next() {
    if (!ok_ || !r_->NextMember(&first_, &key_)) return false;
    if (!seen_.insert(key_).second) {
      r_->Fail(absl::StrCat("key '", key_.substr(0, 64), "' appears twice"));
      return false;
    }
    return true;
  }
  const std::string& key() const { return key_; }

 private:
  JsonReader* r_;
  bool ok_ = false;
  bool first_ = true;
  std::string key_;
  std::set<std::string> seen_;
};

// Reads a string as it is; a number or bool as its JSON text (versions are
// numbers on some servers); null, an object or an array as "".
inline bool ReadScalarText(JsonReader* r, std::string* out) {
  out->clear();
  const char c = r->Peek();
  if (c == '"') return r->ReadString(out);
  absl::string_view span;
  if (!r->SkipValueSpan(&span)) return false;
  if (c != '{' && c != '[' && span != "null") out->assign(span.data(), span.size());
  return true;
}

// Reads an integer from a JSON number or a decimal string (protobuf JSON
// writes int64 as strings). Sets *ok false (reader not failed) when the
// value is neither.
inline bool ReadFlexibleInt64(JsonReader* r, std::int64_t* out, bool* ok) {
  *ok = false;
  const char c = r->Peek();
  if (c == '"') {
    std::string text;
    if (!r->ReadString(&text)) return false;
    *ok = absl::SimpleAtoi(text, out);
    return true;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    absl::string_view span;
    if (!r->SkipValueSpan(&span)) return false;
    JsonReader sub(span);
    *ok = sub.ReadInt64(out) && sub.AtEnd();
    return true;
  }
  return r->SkipValue(1);
}

// Turns a reader failure into the decoder's kDataLoss status.
inline absl::Status ReaderError(absl::string_view what, const JsonReader& r) {
  return absl::DataLossError(absl::StrCat(what, ": ", r.error()));
}

// A metadata shape: dims >= -1, at most Shape::kMaxRank.
inline absl::StatusOr<Shape> JsonToSpecShape(const std::vector<std::int64_t>& dims,
                                             absl::string_view what) {
  absl::StatusOr<Shape> s = Shape::FromDims(dims);
  if (!s.ok()) return absl::DataLossError(absl::StrCat(what, ": ", s.status().message()));
  return s;
}

// Reads one tensor of a V2 metadata "inputs"/"outputs" list.
inline absl::Status ReadKServeV2TensorSpec(JsonReader* r, absl::string_view list,
                                           std::size_t index, TensorSpec* spec) {
  const std::string where = absl::StrCat("kserve v2 model metadata: '", list, "'");
  if (r->Peek() != '{') {
    return absl::DataLossError(absl::StrCat(where, " entry #", index, " is not an object"));
  }
  bool has_name = false, has_dtype = false, has_shape = false, dims_ok = true;
  std::string datatype;
  std::vector<std::int64_t> dims;
  ObjectReader obj(r);
  while (obj.Next()) {
    if (obj.key() == "name" && r->Peek() == '"') {
      if (!r->ReadString(&spec->name)) break;
      has_name = true;
    } else if (obj.key() == "datatype" && r->Peek() == '"') {
      if (!r->ReadString(&datatype)) break;
      has_dtype = true;
    } else if (obj.key() == "shape" && r->Peek() == '[') {
      has_shape = true;
      r->Expect('[');
      bool first = true;
      while (r->NextElement(&first)) {
        std::int64_t d = 0;
        bool ok = false;
        if (!ReadFlexibleInt64(r, &d, &ok)) break;
        dims_ok = dims_ok && ok;
        if (dims.size() <= Shape::kMaxRank) dims.push_back(d);
      }
      if (r->failed()) break;
    } else if (!r->SkipValue(1)) {
      break;
    }
  }
  if (r->failed()) return ReaderError(where, *r);
  if (!has_name) return absl::DataLossError(absl::StrCat(where, " entry #", index, " has no name"));
  const std::string what = absl::StrCat("kserve v2 model metadata: tensor '", spec->name, "'");
  if (!has_dtype) return absl::DataLossError(absl::StrCat(what, " has no datatype"));
  absl::StatusOr<DataType> parsed = ParseDataType(datatype);
  if (!parsed.ok()) return absl::DataLossError(absl::StrCat(what, ": ", parsed.status().message()));
  spec->dtype = *parsed;
  if (!has_shape) return absl::DataLossError(absl::StrCat(what, " has no shape list"));
  if (!dims_ok) return absl::DataLossError(absl::StrCat(what, ": shape is not a list of integers"));
  absl::StatusOr<Shape> shape = JsonToSpecShape(dims, what);
  if (!shape.ok()) return shape.status();
  spec->shape = *shape;
  return absl::OkStatus();
}

inline absl::Status ReadKServeV2TensorList(JsonReader* r, absl::string_view key,
                                           std::vector<TensorSpec>* specs) {
  if (r->Peek() == 'n') return r->ReadNull() ? absl::OkStatus()
                                             : ReaderError("kserve v2 model metadata", *r);
  if (r->Peek() != '[') {
    if (!r->SkipValue(1)) return ReaderError("kserve v2 model metadata", *r);
    return absl::DataLossError(absl::StrCat("kserve v2 model metadata: '", key, "' is not a list"));
  }
  r->Expect('[');
  bool first = true;
  while (r->NextElement(&first)) {
    TensorSpec spec;
    if (absl::Status s = ReadKServeV2TensorSpec(r, key, specs->size(), &spec); !s.ok()) return s;
    specs->push_back(std::move(spec));
  }
  if (r->failed()) return ReaderError("kserve v2 model metadata", *r);
  return absl::OkStatus();
}

inline absl::StatusOr<ModelMetadata> DecodeKServeV2ModelMetadataJson(absl::string_view body) {
  constexpr absl::string_view kWhat = "kserve v2 model metadata";
  try {
    JsonReader r(body);
    if (r.Peek() != '{') return absl::DataLossError(absl::StrCat(kWhat, ": not a JSON object"));
    ModelMetadata md;
    ObjectReader obj(&r);
    while (obj.Next()) {
      const std::string& k = obj.key();
      if (k == "name") {
        if (!ReadScalarText(&r, &md.name)) break;
      } else if (k == "platform") {
        if (!ReadScalarText(&r, &md.platform)) break;
      } else if (k == "versions" && r.Peek() == '[') {
        r.Expect('[');
        bool first = true;
        while (r.NextElement(&first)) {
          std::string v;
          const char c = r.Peek();
          if (!ReadScalarText(&r, &v)) break;
          if (c == '"' || c == '-' || (c >= '0' && c <= '9')) md.versions.push_back(std::move(v));
        }
        if (r.failed()) break;
      } else if (k == "inputs" || k == "outputs") {
        if (absl::Status s = ReadKServeV2TensorList(&r, k, k == "inputs" ? &md.inputs : &md.outputs);
            !s.ok()) {
          return s;
        }
      } else if (!r.SkipValue(1)) {
        break;
      }
    }
    if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
    if (r.failed()) return ReaderError(kWhat, r);
    return md;
  } catch (...) {  // backstop: nothing may escape (allocation failure)
    return CurrentExceptionStatus(kWhat);
  }
}

inline absl::StatusOr<ServerMetadata> DecodeKServeV2ServerMetadataJson(absl::string_view body) {
  constexpr absl::string_view kWhat = "kserve v2 server metadata";
  try {
    JsonReader r(body);
    if (r.Peek() != '{') return absl::DataLossError(absl::StrCat(kWhat, ": not a JSON object"));
    ServerMetadata md;
    ObjectReader obj(&r);
    while (obj.Next()) {
      const std::string& k = obj.key();
      if (k == "name") {
        if (!ReadScalarText(&r, &md.name)) break;
      } else if (k == "version") {
        if (!ReadScalarText(&r, &md.version)) break;
      } else if ((k == "extensions" || k == "extenstion") && r.Peek() == '[') {  // TorchServe's spelling
        r.Expect('[');
        bool first = true;
        while (r.NextElement(&first)) {
          if (r.Peek() == '"') {
            std::string e;
            if (!r.ReadString(&e)) break;
            md.extensions.push_back(std::move(e));
          } else if (!r.SkipValue(1)) {
            break;
          }
        }
        if (r.failed()) break;
      } else if (!r.SkipValue(1)) {
        break;
      }
    }
    if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
    if (r.failed()) return ReaderError(kWhat, r);
    return md;
  } catch (...) {
    return CurrentExceptionStatus(kWhat);
  }
}

inline absl::StatusOr<std::vector<RepositoryModel>> DecodeKServeV2RepositoryIndexJson(
    absl::string_view body) {
  constexpr absl::string_view kWhat = "kserve v2 repository index";
  try {
    JsonReader r(body);
    if (r.Peek() != '[') return absl::DataLossError(absl::StrCat(kWhat, ": not a JSON list"));
    r.Expect('[');
    std::vector<RepositoryModel> models;
    bool first = true;
    while (r.NextElement(&first)) {
      const std::size_t i = models.size();
      if (r.Peek() != '{') {
        return absl::DataLossError(
            absl::StrCat(kWhat, ": entry #", i, " is not an object with a name"));
      }
      RepositoryModel m;
      bool has_name = false;
      ObjectReader obj(&r);
      while (obj.Next()) {
        const std::string& k = obj.key();
        if (k == "name" && r.Peek() == '"') {
          if (!r.ReadString(&m.name)) break;
          has_name = true;
        } else if (k == "version") {
          if (!ReadScalarText(&r, &m.version)) break;
        } else if (k == "state") {
          if (!ReadScalarText(&r, &m.state)) break;
        } else if (k == "reason") {
          if (!ReadScalarText(&r, &m.reason)) break;
        } else if (!r.SkipValue(1)) {
          break;
        }
      }
      if (r.failed()) break;
      if (!has_name) {
        return absl::DataLossError(
            absl::StrCat(kWhat, ": entry #", i, " is not an object with a name"));
      }
      models.push_back(std::move(m));
    }
    if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
    if (r.failed()) return ReaderError(kWhat, r);
    return models;
  } catch (...) {
    return CurrentExceptionStatus(kWhat);
  }
}

// TF Serving's DataType enum names (tensorflow/core/framework/types.proto)
// for the datatypes maas has.
inline bool TfDataTypeToDataType(absl::string_view tf, DataType* out) {
  static constexpr std::pair<absl::string_view, DataType> kMap[] = {
      {"DT_FLOAT", DataType::kFloat32},   {"DT_DOUBLE", DataType::kFloat64},
      {"DT_INT32", DataType::kInt32},     {"DT_INT64", DataType::kInt64},
      {"DT_BOOL", DataType::kBool},       {"DT_UINT8", DataType::kUint8},
      {"DT_UINT16", DataType::kUint16},   {"DT_UINT32", DataType::kUint32},
      {"DT_UINT64", DataType::kUint64},   {"DT_INT8", DataType::kInt8},
      {"DT_INT16", DataType::kInt16},     {"DT_HALF", DataType::kFloat16},
      {"DT_BFLOAT16", DataType::kBFloat16}, {"DT_STRING", DataType::kBytes},
  };
  for (const auto& e : kMap) {
    if (e.first == tf) {
      *out = e.second;
      return true;
    }
  }
  return false;
}

// Reads one TensorInfo of a TF signature_def ({"dtype": ..., "tensor_shape":
// {"dim": [{"size": n}, ...], "unknown_rank": bool}, ...}).
inline absl::Status ReadTfTensorInfo(JsonReader* r, TensorSpec* spec) {
  const std::string what = absl::StrCat("tf serving model metadata: tensor '", spec->name, "'");
  if (r->Peek() != '{') {
    if (!r->SkipValue(1)) return ReaderError(what, *r);
    return absl::DataLossError(absl::StrCat(what, " is not an object"));
  }
  std::string dtype_text = "missing";
  bool dtype_ok = false, unknown_rank = false, dims_ok = true;
  std::vector<std::int64_t> dims;
  ObjectReader obj(r);
  while (obj.Next()) {
    if (obj.key() == "dtype") {
      if (r->Peek() == '"') {
        if (!r->ReadString(&dtype_text)) break;
        dtype_ok = TfDataTypeToDataType(dtype_text, &spec->dtype);
      } else {
        absl::string_view span;
        if (!r->SkipValueSpan(&span)) break;
        dtype_text = std::string(span.substr(0, 64));
      }
    } else if (obj.key() == "tensor_shape" && r->Peek() == '{') {
      ObjectReader shape(r);
      while (shape.Next()) {
        if (shape.key() == "unknown_rank" && (r->Peek() == 't' || r->Peek() == 'f')) {
          absl::string_view span;
          if (!r->SkipValueSpan(&span)) break;
          unknown_rank = span == "true";
        } else if (shape.key() == "dim" && r->Peek() == '[') {
          r->Expect('[');
          bool first = true;
          while (r->NextElement(&first)) {
            std::int64_t size = -1;
            if (r->Peek() == '{') {
              ObjectReader dim(r);
              while (dim.Next()) {
                if (dim.key() == "size") {
                  bool ok = false;
                  if (!ReadFlexibleInt64(r, &size, &ok)) break;
                  dims_ok = dims_ok && ok;
                } else if (!r->SkipValue(1)) {
                  break;
                }
              }
              if (r->failed()) break;
            } else if (!r->SkipValue(1)) {
              break;
            }
            if (dims.size() <= Shape::kMaxRank) dims.push_back(size);
          }
          if (r->failed()) break;
        } else if (!r->SkipValue(1)) {
          break;
        }
      }
      if (r->failed()) break;
    } else if (!r->SkipValue(1)) {
      break;
    }
  }
  if (r->failed()) return ReaderError(what, *r);
  if (!dtype_ok) {
    return absl::DataLossError(absl::StrCat(what, ": dtype ", dtype_text, " has no maas datatype"));
  }
  if (unknown_rank) return absl::DataLossError(absl::StrCat(what, ": shape of unknown rank"));
  if (!dims_ok) return absl::DataLossError(absl::StrCat(what, ": bad dim size"));
  absl::StatusOr<Shape> shape = JsonToSpecShape(dims, what);
  if (!shape.ok()) return shape.status();
  spec->shape = *shape;
  return absl::OkStatus();
}

// Reads a signature's "inputs" or "outputs" map of TensorInfo.
inline absl::Status ReadTfTensorMap(JsonReader* r, absl::string_view key,
                                    std::vector<TensorSpec>* specs) {
  const std::string where = absl::StrCat("tf serving model metadata: '", key, "'");
  if (r->Peek() == 'n') return r->ReadNull() ? absl::OkStatus() : ReaderError(where, *r);
  if (r->Peek() != '{') {
    if (!r->SkipValue(1)) return ReaderError(where, *r);
    return absl::DataLossError(absl::StrCat(where, " is not an object"));
  }
  ObjectReader obj(r);
  while (obj.Next()) {
    TensorSpec spec;
    spec.name = obj.key();
    if (absl::Status s = ReadTfTensorInfo(r, &spec); !s.ok()) return s;
    specs->push_back(std::move(spec));
  }
  if (r->failed()) return ReaderError(where, *r);
  // A protobuf map has no order: sort by name, so the signature does not
  // depend on how the server happened to write it.
  std::sort(specs->begin(), specs->end(),
            [](const TensorSpec& a, const TensorSpec& b) { return a.name < b.name; });
  return absl::OkStatus();
}

inline absl::StatusOr<ModelMetadata> DecodeTfModelMetadataJson(absl::string_view body,
                                                               absl::string_view signature_name) {
  constexpr absl::string_view kWhat = "tf serving model metadata";
  try {
    JsonReader r(body);
    if (r.Peek() != '{') return absl::DataLossError(absl::StrCat(kWhat, ": not a JSON object"));
    ModelMetadata md;
    md.platform = "tensorflow";
    bool has_defs = false, found = false;
    std::vector<std::string> names;
    ObjectReader top(&r);
    while (top.Next()) {
      if (top.key() == "model_spec" && r.Peek() == '{') {
        ObjectReader spec(&r);
        while (spec.Next()) {
          if (spec.key() == "name") {
            if (!ReadScalarText(&r, &md.name)) break;
          } else if (spec.key() == "version") {
            std::string v;
            if (!ReadScalarText(&r, &v)) break;
            if (!v.empty()) md.versions.push_back(std::move(v));
          } else if (!r.SkipValue(1)) {
            break;
          }
        }
        if (r.failed()) break;
      } else if (top.key() == "metadata" && r.Peek() == '{') {
        ObjectReader meta(&r);
        while (meta.Next()) {
          if (meta.key() != "signature_def" || r.Peek() != '{') {
            if (!r.SkipValue(1)) break;
            continue;
          }
          ObjectReader sd(&r);
          while (sd.Next()) {
            if (sd.key() != "signature_def" || r.Peek() != '{') {
              if (!r.SkipValue(1)) break;
              continue;
            }
            has_defs = true;
            ObjectReader defs(&r);
            while (defs.Next()) {
              names.push_back(defs.key());
              if (defs.key() != signature_name || r.Peek() != '{') {
                if (!r.SkipValue(1)) break;
                continue;
              }
              found = true;
              ObjectReader sig(&r);
              while (sig.Next()) {
                if (sig.key() == "inputs" || sig.key() == "outputs") {
                  if (absl::Status s = ReadTfTensorMap(
                          &r, sig.key(), sig.key() == "inputs" ? &md.inputs : &md.outputs);
                      !s.ok()) {
                    return s;
                  }
                } else if (!r.SkipValue(1)) {
                  break;
                }
              }
              if (r.failed()) break;
            }
            if (r.failed()) break;
          }
          if (r.failed()) break;
        }
        if (r.failed()) break;
      } else if (!r.SkipValue(1)) {
        break;
      }
    }
    if (!r.failed() && !r.AtEnd()) r.Fail("unexpected text after the JSON");
    if (r.failed()) return ReaderError(kWhat, r);
    if (!has_defs) {
      return absl::DataLossError(
          "tf serving model metadata: no metadata.signature_def.signature_def object");
    }
    if (!found) {
      return absl::NotFoundError(absl::StrCat(
          "tf serving model metadata: no signature '", signature_name, "' (the model has ",
          names.empty() ? std::string("none") : absl::StrJoin(names, ", "), ")"));
    }
    return md;
  } catch (...) {
    return CurrentExceptionStatus(kWhat);
  }
}

// Reads {"ready": bool} (KServe V1 model readiness); nullopt-like false in
// *found when the body is not such an object.
inline bool DecodeReadyFlag(absl::string_view body, bool* ready) {
  try {
    JsonReader r(body);
    if (r.Peek() != '{') return false;
    bool found = false;
    ObjectReader obj(&r);
    while (obj.Next()) {
      if (obj.key() == "ready" && (r.Peek() == 't' || r.Peek() == 'f')) {
        absl::string_view span;
        if (!r.SkipValueSpan(&span)) return false;
        *ready = span == "true";
        found = true;
      } else if (!r.SkipValue(1)) {
        return false;
      }
    }
    return found && !r.failed() && r.AtEnd();
  } catch (...) {
    return false;
  }
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CODEC_METADATA_H_
