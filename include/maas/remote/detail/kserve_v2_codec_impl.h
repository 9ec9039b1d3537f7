// Implementation of maas/remote/kserve_v2_codec.h. Include that header, not
// this one.

#ifndef MAAS_REMOTE_DETAIL_KSERVE_V2_CODEC_IMPL_H_
#define MAAS_REMOTE_DETAIL_KSERVE_V2_CODEC_IMPL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "maas/remote/detail/codec_text.h"

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
