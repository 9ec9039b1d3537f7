// Internal: what both HTTP engines of `maas::HttpClientTransport` share:
// base-URL parsing (never echoing credentials), the checks that keep CR/LF
// and other bytes that could split a request out of the request line and
// header fields, the request header block, and proxy selection from options
// and the environment. Pure functions; no I/O. Not part of the public API.

#ifndef MAAS_REMOTE_DETAIL_HTTP_WIRE_H_
#define MAAS_REMOTE_DETAIL_HTTP_WIRE_H_

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "maas/remote/http.h"

namespace maas {
namespace detail {

// The parts of a base URL "scheme://host[:port][/prefix]".
struct ParsedBaseUrl {
  std::string scheme;     // "http" or "https"
  std::string host;       // as written, IPv6 without brackets
  int port = 0;
  std::string prefix;     // "" or "/a/b" (no trailing '/')
  std::string canonical;  // scheme://host:port/prefix, for messages
  std::string origin;     // scheme://host:port (IPv6 in brackets)
  std::string host_port;  // the Host header value
};

// RedactUrl()
//
// `url` with any user-info ("user:password@") replaced by "***@", for
// messages.
inline std::string RedactUrl(absl::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t start = scheme_end == absl::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t path = url.find_first_of("/?#", start);
  const std::size_t at = url.substr(0, path).rfind('@');
  if (at == absl::string_view::npos || at < start) return std::string(url);
  return absl::StrCat(url.substr(0, start), "***", url.substr(at));
}

// IsHttpToken()
//
// RFC 9110 token: the characters allowed in a header field name.
inline bool IsHttpToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u) && absl::string_view("!#$%&'*+-.^_`|~").find(c) ==
                                       absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// IsSafeFieldValue()
//
// A header field value that cannot end the field or the head: no CR, LF or
// NUL (nor other control bytes but tab).
inline bool IsSafeFieldValue(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) return false;
  }
  return true;
}

// IsSafeRequestTarget()
//
// A request path (with query) that cannot split the request line: visible
// ASCII only, starting with '/'.
inline bool IsSafeRequestTarget(absl::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return false;
  }
  return true;
}

// ParseBaseUrl()
//
// Accepts http:// and https:// URLs with an optional port and path prefix;
// no user-info (credentials belong in HttpTransportOptions; the message
// never repeats them), query or fragment, and a prefix of visible ASCII.
// Fails with `kInvalidArgument`.
inline absl::StatusOr<ParsedBaseUrl> ParseBaseUrl(absl::string_view url) {
  const std::string shown = RedactUrl(url);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid server URL '", IsSafeFieldValue(shown) ? shown : std::string("(unprintable)"),
        "': ", why));
  };
  ParsedBaseUrl out;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "http://")) {
    out.scheme = "http";
  } else if (absl::ConsumePrefix(&rest, "https://")) {
    out.scheme = "https";
  } else {
    return bad("must start with http:// or https://");
  }
  const std::size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path =
      slash == absl::string_view::npos ? absl::string_view() : rest.substr(slash);
  if (authority.find('@') != absl::string_view::npos) {
    return bad("user-info is not supported; pass credentials in the options");
  }
  if (path.find_first_of("?#") != absl::string_view::npos) {
    return bad("a query or fragment is not supported");
  }
  if (!path.empty() && !IsSafeRequestTarget(path)) {
    return bad("the path contains spaces, control or non-ASCII bytes");
  }
  absl::string_view port_text;
  if (absl::ConsumePrefix(&authority, "[")) {
    const std::size_t close = authority.find(']');
    if (close == absl::string_view::npos) return bad("unterminated '['");
    out.host = std::string(authority.substr(0, close));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) return bad("junk after ']'");
      port_text = after;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  for (char c : out.host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '/' || c == '[' || c == ']' || c == '@') {
      return bad("the host contains spaces, control bytes or '/'");
    }
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535) {
      return bad(absl::StrCat("port '", port_text, "' is not in 1..65535"));
    }
    out.port = port;
  }
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  out.prefix = std::string(path);
  const bool v6 = out.host.find(':') != std::string::npos;
  const std::string host = v6 ? absl::StrCat("[", out.host, "]") : out.host;
  out.host_port = absl::StrCat(host, ":", out.port);
  out.origin = absl::StrCat(out.scheme, "://", out.host_port);
  out.canonical = absl::StrCat(out.origin, out.prefix);
  return out;
}

// CheckTransportOptions()
//
// The option values that end up in header fields: credentials and custom
// headers must not contain CR, LF or other control bytes, header names must
// be tokens. Fails with `kInvalidArgument` naming the option (never its
// value: it may be a secret).
inline absl::Status CheckTransportOptions(const HttpTransportOptions& o) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HttpTransportOptions::", what,
        " contains CR, LF or another control byte (header injection)"));
  };
  if (!IsSafeFieldValue(o.bearer_token)) return bad("bearer_token");
  if (!IsSafeFieldValue(o.api_key)) return bad("api_key");
  if (!o.api_key.empty() && !IsHttpToken(o.api_key_header)) {
    return absl::InvalidArgumentError(
        "HttpTransportOptions::api_key_header must be a header name (an HTTP token)");
  }
  for (const auto& h : o.headers) {
    if (!IsHttpToken(h.first)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HttpTransportOptions::headers: '", absl::CHexEscape(h.first.substr(0, 64)),
          "' is not a header name (an HTTP token)"));
    }
    if (!IsSafeFieldValue(h.second)) return bad(absl::StrCat("headers['", h.first, "']"));
  }
  for (absl::Duration d : {o.connect_timeout, o.read_timeout, o.write_timeout, o.total_timeout}) {
    if (d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("HttpTransportOptions: every timeout must be positive");
    }
  }
  return absl::OkStatus();
}

// CheckRequest()
//
// The per-call parts that reach the wire: path, content type, header
// fields. Fails with `kInvalidArgument`; `where` names the endpoint.
inline absl::Status CheckRequest(const HttpRequest& r, absl::string_view where) {
  if (!IsSafeRequestTarget(r.path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": the request path must start with '/' and contain only visible ASCII"));
  }
  if (!IsSafeFieldValue(r.content_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the content type contains CR, LF or a control byte"));
  }
  for (const auto& h : r.headers.fields()) {
    if (!IsHttpToken(h.first) || !IsSafeFieldValue(h.second)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": header field '", absl::CHexEscape(h.first.substr(0, 64)),
          "' is not a token or its value contains CR, LF or a control byte"));
    }
  }
  return absl::OkStatus();
}

// FixedHeaders()
//
// The header fields every request carries from the options: custom
// headers, then credentials.
inline std::vector<std::pair<std::string, std::string>> FixedHeaders(
    const HttpTransportOptions& o) {
  std::vector<std::pair<std::string, std::string>> h(o.headers.begin(), o.headers.end());
  if (!o.bearer_token.empty()) h.emplace_back("Authorization", "Bearer " + o.bearer_token);
  if (!o.api_key.empty()) h.emplace_back(o.api_key_header, o.api_key);
  return h;
}

// AppendRequestHead()
//
// Appends the HTTP/1.1 request line and header block for `r` (already
// checked) to `*out`.
inline void AppendRequestHead(const ParsedBaseUrl& url,
                              const std::vector<std::pair<std::string, std::string>>& fixed,
                              const HttpRequest& r, std::string* out) {
  absl::StrAppend(out, HttpMethodName(r.method), " ", url.prefix, r.path,
                  " HTTP/1.1\r\nHost: ", url.host_port, "\r\n");
  if (r.method == HttpMethod::kPost) {
    absl::StrAppend(out, "Content-Type: ",
                    r.content_type.empty() ? absl::string_view("application/json")
                                           : absl::string_view(r.content_type),
                    "\r\nContent-Length: ", r.body.size(), "\r\n");
  }
  for (const auto& h : fixed) absl::StrAppend(out, h.first, ": ", h.second, "\r\n");
  for (const auto& h : r.headers.fields()) absl::StrAppend(out, h.first, ": ", h.second, "\r\n");
  out->append("\r\n");
}

// GetEnv()
//
// An environment variable, or "" when unset.
inline std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// NoProxyMatches()
//
// Whether `host` is listed in a no_proxy value: "*", or comma-separated
// host names / domain suffixes (a leading '.' optional), compared without
// case. (CIDR entries are left to libcurl, which is used whenever a proxy
// may apply.)
inline bool NoProxyMatches(absl::string_view no_proxy, absl::string_view host) {
  for (absl::string_view entry : absl::StrSplit(no_proxy, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry == "*") return true;
    absl::ConsumePrefix(&entry, ".");
    if (entry.empty()) continue;
    if (absl::EqualsIgnoreCase(host, entry)) return true;
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        absl::EqualsIgnoreCase(host.substr(host.size() - entry.size()), entry)) {
      return true;
    }
  }
  return false;
}

// ProxyMayApply()
//
// Whether a request to `url` may go through a proxy: `options.proxy` set
// (and `options.no_proxy` does not list the host), or, unless
// `ignore_env_proxy`, the environment names one as libcurl reads it
// (http_proxy for http://, https_proxy/HTTPS_PROXY for https://, else
// all_proxy/ALL_PROXY) and no_proxy/NO_PROXY does not list the host.
inline bool ProxyMayApply(const ParsedBaseUrl& url, const HttpTransportOptions& o) {
  if (!o.proxy.empty()) return !NoProxyMatches(o.no_proxy, url.host);
  if (o.ignore_env_proxy) return false;
  std::string proxy = url.scheme == "http" ? GetEnv("http_proxy") : GetEnv("https_proxy");
  if (proxy.empty() && url.scheme == "https") proxy = GetEnv("HTTPS_PROXY");
  if (proxy.empty()) proxy = GetEnv("all_proxy");
  if (proxy.empty()) proxy = GetEnv("ALL_PROXY");
  if (proxy.empty()) return false;
  std::string no_proxy = GetEnv("no_proxy");
  if (no_proxy.empty()) no_proxy = GetEnv("NO_PROXY");
  return !NoProxyMatches(no_proxy, url.host);
}

// IsNumericOrLocalHost()
//
// An IPv4/IPv6 literal or "localhost": resolving it never waits on DNS.
inline bool IsNumericOrLocalHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  if (host.find(':') != absl::string_view::npos) return true;  // IPv6 literal
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_REMOTE_DETAIL_HTTP_WIRE_H_
