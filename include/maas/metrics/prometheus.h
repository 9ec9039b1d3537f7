// -----------------------------------------------------------------------------
// File: metrics/prometheus.h
// -----------------------------------------------------------------------------
//
// Prometheus exposition of a `maas::MetricsSnapshot`:
//  * `PrometheusText()`: the text format 0.0.4 (`Content-Type: text/plain;
//    version=0.0.4`): `# HELP` and `# TYPE` lines before each family's
//    series, label values escaped, histograms as cumulative `_bucket{le=...}`
//    series ending with `le="+Inf"`, then `_sum` and `_count`; no
//    timestamps. maas serves no HTTP itself; the string is for a program's
//    own endpoint, a log, or:
//  * `WritePrometheusTextFile()`: the same text written *atomically* to a
//    file (a temporary file in the same directory, flushed to disk, then
//    renamed over the target), the form node_exporter's textfile collector
//    reads (`--collector.textfile.directory`): on an HPC node a simulation
//    usually cannot open a port, but it can write a file that the node's
//    exporter serves. A scrape never sees a half-written file.
//  * `PrometheusTextFileSink`: a `MetricsSink` doing the latter.
//
// Example:
//
//   maas::PrometheusTextFileSink sink("/var/lib/node_exporter/textfile/maas_rank3.prom");
//   absl::Status s = registry.PublishTo(sink);
//
// All functions are thread-safe (they touch only their arguments and the
// file they write).

#ifndef MAAS_METRICS_PROMETHEUS_H_
#define MAAS_METRICS_PROMETHEUS_H_

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "maas/core/detail/exception.h"
#include "maas/metrics/registry.h"

namespace maas {

// The Content-Type of `PrometheusText()`'s output.
inline constexpr absl::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

namespace detail {

// A number as Prometheus text: integers exactly, others in the shortest
// form that reads back to the same double; NaN, +Inf, -Inf.
inline std::string PrometheusNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    return absl::StrCat(static_cast<std::int64_t>(v));
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::string s = absl::StrFormat("%.*g", digits, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return absl::StrFormat("%.17g", v);
}

// A label value or HELP text with \\, \" (label values only) and \n escaped.
inline void AppendEscaped(std::string* out, absl::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

inline void AppendLabels(std::string* out, const MetricLabels& labels,
                         absl::string_view extra_name = {}, absl::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, l.first, "=\"");
    AppendEscaped(out, l.second, true);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, extra_name, "=\"");
    AppendEscaped(out, extra_value, true);
    out->push_back('"');
  }
  out->push_back('}');
}

inline absl::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace detail

// PrometheusText()
//
// `snapshot` in the Prometheus text exposition format 0.0.4. Allocates.
inline std::string PrometheusText(const MetricsSnapshot& snapshot) {
  std::string out;
  for (const MetricFamily& f : snapshot.families) {
    if (f.samples.empty() && f.histograms.empty()) continue;
    absl::StrAppend(&out, "# HELP ", f.name, " ");
    detail::AppendEscaped(&out, f.help, false);
    absl::StrAppend(&out, "\n# TYPE ", f.name, " ", detail::MetricTypeName(f.type), "\n");
    for (const MetricSample& s : f.samples) {
      out.append(f.name);
      detail::AppendLabels(&out, s.labels);
      absl::StrAppend(&out, " ", detail::PrometheusNumber(s.value), "\n");
    }
    for (const HistogramSample& h : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.bucket_counts.size(); ++i) {
        cumulative += h.bucket_counts[i];
        const std::string le = i < h.upper_bounds.size()
                                   ? detail::PrometheusNumber(h.upper_bounds[i])
                                   : std::string("+Inf");
        absl::StrAppend(&out, f.name, "_bucket");
        detail::AppendLabels(&out, h.labels, "le", le);
        absl::StrAppend(&out, " ", cumulative, "\n");
      }
      absl::StrAppend(&out, f.name, "_sum");
      detail::AppendLabels(&out, h.labels);
      absl::StrAppend(&out, " ", detail::PrometheusNumber(h.sum), "\n");
      absl::StrAppend(&out, f.name, "_count");
      detail::AppendLabels(&out, h.labels);
      absl::StrAppend(&out, " ", h.count, "\n");
    }
  }
  return out;
}

// PrometheusText(registry)
//
// A snapshot of `registry` as Prometheus text.
inline std::string PrometheusText(const MetricsRegistry& registry) {
  return PrometheusText(registry.Snapshot());
}

// WritePrometheusTextFile()
//
// Writes `text` to `path` atomically: into `<path>.<pid>.tmp` in the same
// directory, fsync, then rename over `path` (readers see the old file or
// the new one, never a mix). Fails with `kNotFound` (no such directory),
// `kPermissionDenied`, `kResourceExhausted` (disk full) or `kInternal` (other
// I/O errors), naming the file; the temporary file is removed on failure.
inline absl::Status WritePrometheusTextFile(const std::string& path, absl::string_view text) {
  try {
    const std::string tmp = absl::StrCat(path, ".", ::getpid(), ".tmp");
    auto fail = [&](absl::string_view what, int err) {
      ::unlink(tmp.c_str());
      const std::string msg = absl::StrCat(what, " ", tmp, ": ", std::strerror(err));
      switch (err) {
        case ENOENT: case ENOTDIR: return absl::NotFoundError(msg);
        case EACCES: case EPERM: case EROFS: return absl::PermissionDeniedError(msg);
        case ENOSPC: case EDQUOT: return absl::ResourceExhaustedError(msg);
        default: return absl::InternalError(msg);
      }
    };
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot create", errno);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return fail("cannot write", err);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      return fail("cannot flush", err);
    }
    if (::close(fd) != 0) return fail("cannot close", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return fail(absl::StrCat("cannot rename to ", path, ":"), err);
    }
    return absl::OkStatus();
  } catch (...) {
    return detail::CurrentExceptionStatus("WritePrometheusTextFile");
  }
}

// PrometheusTextFileSink
//
// A `MetricsSink` that writes each snapshot to one file with
// `WritePrometheusTextFile()`. Name the file `*.prom` for node_exporter,
// one per process (e.g. per MPI rank). Thread-compatible (one publisher).
class PrometheusTextFileSink final : public MetricsSink {
 public:
  explicit PrometheusTextFileSink(std::string path) : path_(std::move(path)) {}

  absl::Status Publish(const MetricsSnapshot& snapshot) override {
    try {
      return WritePrometheusTextFile(path_, PrometheusText(snapshot));
    } catch (...) {
      return detail::CurrentExceptionStatus("PrometheusTextFileSink");
    }
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace maas

#endif  // MAAS_METRICS_PROMETHEUS_H_
