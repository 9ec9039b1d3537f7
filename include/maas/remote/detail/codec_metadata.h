// Internal decoders of the small metadata replies (server and model metadata,
// repository index, TF Serving status and metadata). They are small, so they
// use an nlohmann DOM, parsed without exceptions. Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_CODEC_METADATA_H_
#define MAAS_REMOTE_DETAIL_CODEC_METADATA_H_

#include <charconv>
#include <cstdint>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/shape.h"
#include "maas/detail/strict_json.h"
#include "maas/remote/inference.h"
#include "nlohmann/json.hpp"

namespace maas {
namespace detail {

using Json = nlohmann::json;

// Parses `body` with the strict rules of detail/strict_json.h (bounded
// nesting, no repeated keys), without exceptions; `what` prefixes the
// message (kDataLoss, or kResourceExhausted when memory runs out).
inline absl::StatusOr<Json> ParseJsonDom(absl::string_view body, absl::string_view what) {
  absl::StatusOr<Json> doc = ParseStrictJson(body);
  if (!doc.ok()) {
    return absl::Status(doc.status().code(), absl::StrCat(what, ": ", doc.status().message()));
  }
  return doc;
}

// A string member, or a scalar's JSON text (versions are numbers on some
// servers); "" when absent or null.
inline std::string ScalarText(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_primitive()) return it->dump();
  return "";
}

// An integer from a JSON number or a decimal string (protobuf JSON writes
// int64 as strings).
inline bool JsonToInt64(const Json& v, std::int64_t* out) {
  if (v.is_number_integer()) {
    *out = v.get<std::int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= -9.2e18 && d <= 9.2e18 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
      *out = static_cast<std::int64_t>(d);
      return true;
    }
    return false;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  }
  return false;
}

// A metadata shape: dims >= -1, at most Shape::kMaxRank.
inline absl::StatusOr<Shape> JsonToSpecShape(const std::vector<std::int64_t>& dims,
                                             absl::string_view what) {
  absl::StatusOr<Shape> s = Shape::FromDims(dims);
  if (!s.ok()) return absl::DataLossError(absl::StrCat(what, ": ", s.status().message()));
  return s;
}

inline absl::StatusOr<std::vector<TensorSpec>> DecodeKServeV2TensorList(
    const Json& doc, const char* key) {
  std::vector<TensorSpec> specs;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return specs;
  const std::string where = absl::StrCat("kserve v2 model metadata: '", key, "'");
  if (!it->is_array()) return absl::DataLossError(absl::StrCat(where, " is not a list"));
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    if (!t.is_object()) {
      return absl::DataLossError(absl::StrCat(where, " entry #", i, " is not an object"));
    }
    TensorSpec spec;
    auto name = t.find("name");
    if (name == t.end() || !name->is_string()) {
      return absl::DataLossError(absl::StrCat(where, " entry #", i, " has no name"));
    }
    spec.name = name->get<std::string>();
    const std::string what = absl::StrCat("kserve v2 model metadata: tensor '", spec.name, "'");
    auto dt = t.find("datatype");
    if (dt == t.end() || !dt->is_string()) {
      return absl::DataLossError(absl::StrCat(what, " has no datatype"));
    }
    absl::StatusOr<DataType> parsed = ParseDataType(dt->get<std::string>());
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat(what, ": ", parsed.status().message()));
    }
    spec.dtype = *parsed;
    auto sh = t.find("shape");
    if (sh == t.end() || !sh->is_array()) {
      return absl::DataLossError(absl::StrCat(what, " has no shape list"));
    }
    std::vector<std::int64_t> dims;
    for (const Json& d : *sh) {
      std::int64_t v;
      if (!JsonToInt64(d, &v)) {
        return absl::DataLossError(absl::StrCat(what, ": shape ", sh->dump(), " is not a list of integers"));
      }
      dims.push_back(v);
    }
    absl::StatusOr<Shape> shape = JsonToSpecShape(dims, what);
    if (!shape.ok()) return shape.status();
    spec.shape = *shape;
    specs.push_back(std::move(spec));
  }
  return specs;
}

inline absl::StatusOr<ModelMetadata> DecodeKServeV2ModelMetadataJson(absl::string_view body) {
  try {
    absl::StatusOr<Json> doc = ParseJsonDom(body, "kserve v2 model metadata");
    if (!doc.ok()) return doc.status();
    if (!doc->is_object()) {
      return absl::DataLossError("kserve v2 model metadata: not a JSON object");
    }
    ModelMetadata md;
    md.name = ScalarText(*doc, "name");
    md.platform = ScalarText(*doc, "platform");
    auto v = doc->find("versions");
    if (v != doc->end() && v->is_array()) {
      for (const Json& e : *v) {
        if (e.is_string()) md.versions.push_back(e.get<std::string>());
        else if (e.is_number()) md.versions.push_back(e.dump());
      }
    }
    absl::StatusOr<std::vector<TensorSpec>> in = DecodeKServeV2TensorList(*doc, "inputs");
    if (!in.ok()) return in.status();
    absl::StatusOr<std::vector<TensorSpec>> out = DecodeKServeV2TensorList(*doc, "outputs");
    if (!out.ok()) return out.status();
    md.inputs = std::move(*in);
    md.outputs = std::move(*out);
    return md;
  } catch (const std::exception& e) {  // backstop: nothing may escape
    return absl::DataLossError(absl::StrCat("kserve v2 model metadata: ", e.what()));
  }
}

inline absl::StatusOr<ServerMetadata> DecodeKServeV2ServerMetadataJson(absl::string_view body) {
  try {
    absl::StatusOr<Json> doc = ParseJsonDom(body, "kserve v2 server metadata");
    if (!doc.ok()) return doc.status();
    if (!doc->is_object()) {
      return absl::DataLossError("kserve v2 server metadata: not a JSON object");
    }
    ServerMetadata md;
    md.name = ScalarText(*doc, "name");
    md.version = ScalarText(*doc, "version");
    for (const char* key : {"extensions", "extenstion"}) {  // TorchServe's spelling
      auto it = doc->find(key);
      if (it == doc->end() || !it->is_array()) continue;
      for (const Json& e : *it) {
        if (e.is_string()) md.extensions.push_back(e.get<std::string>());
      }
    }
    return md;
  } catch (const std::exception& e) {  // backstop
    return absl::DataLossError(absl::StrCat("kserve v2 server metadata: ", e.what()));
  }
}

inline absl::StatusOr<std::vector<RepositoryModel>> DecodeKServeV2RepositoryIndexJson(
    absl::string_view body) {
  try {
    absl::StatusOr<Json> doc = ParseJsonDom(body, "kserve v2 repository index");
    if (!doc.ok()) return doc.status();
    if (!doc->is_array()) {
      return absl::DataLossError("kserve v2 repository index: not a JSON list");
    }
    std::vector<RepositoryModel> models;
    for (std::size_t i = 0; i < doc->size(); ++i) {
      const Json& m = (*doc)[i];
      auto name = m.is_object() ? m.find("name") : m.end();
      if (!m.is_object() || name == m.end() || !name->is_string()) {
        return absl::DataLossError(absl::StrCat(
            "kserve v2 repository index: entry #", i, " is not an object with a name"));
      }
      RepositoryModel r;
      r.name = name->get<std::string>();
      r.version = ScalarText(m, "version");
      r.state = ScalarText(m, "state");
      r.reason = ScalarText(m, "reason");
      models.push_back(std::move(r));
    }
    return models;
  } catch (const std::exception& e) {  // backstop
    return absl::DataLossError(absl::StrCat("kserve v2 repository index: ", e.what()));
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

inline absl::StatusOr<std::vector<TensorSpec>> DecodeTfTensorMap(const Json& sig,
                                                                 const char* key) {
  std::vector<TensorSpec> specs;
  auto it = sig.find(key);
  if (it == sig.end() || it->is_null()) return specs;
  const std::string where = absl::StrCat("tf serving model metadata: '", key, "'");
  if (!it->is_object()) return absl::DataLossError(absl::StrCat(where, " is not an object"));
  for (auto m = it->begin(); m != it->end(); ++m) {
    TensorSpec spec;
    spec.name = m.key();
    const std::string what = absl::StrCat("tf serving model metadata: tensor '", spec.name, "'");
    const Json& t = m.value();
    if (!t.is_object()) return absl::DataLossError(absl::StrCat(what, " is not an object"));
    auto dt = t.find("dtype");
    if (dt == t.end() || !dt->is_string() ||
        !TfDataTypeToDataType(dt->get_ref<const std::string&>(), &spec.dtype)) {
      return absl::DataLossError(absl::StrCat(
          what, ": dtype ", dt == t.end() ? std::string("missing") : dt->dump(),
          " has no maas datatype"));
    }
    std::vector<std::int64_t> dims;
    auto ts = t.find("tensor_shape");
    if (ts != t.end() && ts->is_object()) {
      auto unknown = ts->find("unknown_rank");
      if (unknown != ts->end() && unknown->is_boolean() && unknown->get<bool>()) {
        return absl::DataLossError(absl::StrCat(what, ": shape of unknown rank"));
      }
      auto dim = ts->find("dim");
      if (dim != ts->end() && dim->is_array()) {
        for (const Json& d : *dim) {
          std::int64_t size = -1;
          auto sz = d.is_object() ? d.find("size") : d.end();
          if (d.is_object() && sz != d.end() && !JsonToInt64(*sz, &size)) {
            return absl::DataLossError(absl::StrCat(what, ": bad dim ", d.dump()));
          }
          dims.push_back(size);
        }
      }
    }
    absl::StatusOr<Shape> shape = JsonToSpecShape(dims, what);
    if (!shape.ok()) return shape.status();
    spec.shape = *shape;
    specs.push_back(std::move(spec));
  }
  return specs;
}

inline absl::StatusOr<ModelMetadata> DecodeTfModelMetadataJson(absl::string_view body,
                                                               absl::string_view signature_name) {
  try {
    absl::StatusOr<Json> doc = ParseJsonDom(body, "tf serving model metadata");
    if (!doc.ok()) return doc.status();
    if (!doc->is_object()) {
      return absl::DataLossError("tf serving model metadata: not a JSON object");
    }
    ModelMetadata md;
    md.platform = "tensorflow";
    auto spec = doc->find("model_spec");
    if (spec != doc->end() && spec->is_object()) {
      md.name = ScalarText(*spec, "name");
      std::string v = ScalarText(*spec, "version");
      if (!v.empty()) md.versions.push_back(std::move(v));
    }
    const Json* defs = nullptr;
    auto meta = doc->find("metadata");
    if (meta != doc->end() && meta->is_object()) {
      auto sd = meta->find("signature_def");
      if (sd != meta->end() && sd->is_object()) {
        auto inner = sd->find("signature_def");
        if (inner != sd->end() && inner->is_object()) defs = &*inner;
      }
    }
    if (defs == nullptr) {
      return absl::DataLossError(
          "tf serving model metadata: no metadata.signature_def.signature_def object");
    }
    auto sig = defs->find(std::string(signature_name));
    if (sig == defs->end() || !sig->is_object()) {
      std::vector<std::string> names;
      for (auto d = defs->begin(); d != defs->end(); ++d) names.push_back(d.key());
      return absl::NotFoundError(absl::StrCat(
          "tf serving model metadata: no signature '", signature_name, "' (the model has ",
          names.empty() ? std::string("none") : absl::StrJoin(names, ", "), ")"));
    }
    absl::StatusOr<std::vector<TensorSpec>> in = DecodeTfTensorMap(*sig, "inputs");
    if (!in.ok()) return in.status();
    absl::StatusOr<std::vector<TensorSpec>> out = DecodeTfTensorMap(*sig, "outputs");
    if (!out.ok()) return out.status();
    md.inputs = std::move(*in);
    md.outputs = std::move(*out);
    return md;
  } catch (const std::exception& e) {  // backstop
    return absl::DataLossError(absl::StrCat("tf serving model metadata: ", e.what()));
  }
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_CODEC_METADATA_H_
