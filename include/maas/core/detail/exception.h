// Internal: turning an exception caught at maas' boundary into a status.
// Not part of the public API.

#ifndef MAAS_CORE_DETAIL_EXCEPTION_H_
#define MAAS_CORE_DETAIL_EXCEPTION_H_

#include <exception>
#include <new>
#include <stdexcept>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace maas {
namespace detail {

// CurrentExceptionStatus()
//
// Call only inside a `catch` block: the status for the exception being
// handled: `kResourceExhausted` for std::bad_alloc (and std::length_error,
// which the standard library throws for impossible sizes), `kInternal`
// otherwise, with "<where>: <what()>" as the message. When even the message
// cannot be allocated, the status has the code and no message. Never throws.
inline absl::Status CurrentExceptionStatus(absl::string_view where) noexcept {
  absl::StatusCode code = absl::StatusCode::kInternal;
  const char* what = "unknown exception";
  try {
    throw;
  } catch (const std::bad_alloc&) {
    code = absl::StatusCode::kResourceExhausted;
    what = "out of memory";
  } catch (const std::length_error& e) {
    code = absl::StatusCode::kResourceExhausted;
    what = e.what();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  try {
    return absl::Status(code, absl::StrCat(where, ": ", what));
  } catch (...) {
    return absl::Status(code, "");
  }
}

}  // namespace detail
}  // namespace maas

#endif  // MAAS_CORE_DETAIL_EXCEPTION_H_
