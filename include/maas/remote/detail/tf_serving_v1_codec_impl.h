// Implementation of maas/remote/tf_serving_v1_codec.h. Include that header,
// not this one.

#ifndef MAAS_REMOTE_DETAIL_TF_SERVING_V1_CODEC_IMPL_H_
#define MAAS_REMOTE_DETAIL_TF_SERVING_V1_CODEC_IMPL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "maas/remote/detail/codec_text.h"

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
