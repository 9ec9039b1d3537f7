// -----------------------------------------------------------------------------
// File: remote/httplib_transport.h
// -----------------------------------------------------------------------------
//
// Compatibility header: the transport used to be built on cpp-httplib and was
// called `maas::HttpLibTransport`. It is now `maas::HttpClientTransport`
// (remote/http_client_transport.h: a built-in HTTP/1.1 engine and libcurl);
// this header keeps code written against the old name compiling. New code
// includes remote/http_client_transport.h.

#ifndef MAAS_REMOTE_HTTPLIB_TRANSPORT_H_
#define MAAS_REMOTE_HTTPLIB_TRANSPORT_H_

#include "maas/remote/http_client_transport.h"

namespace maas {

// HttpLibTransport
//
// The former name of `HttpClientTransport`.
using HttpLibTransport = HttpClientTransport;

}  // namespace maas

#endif  // MAAS_REMOTE_HTTPLIB_TRANSPORT_H_
