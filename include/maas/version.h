// -----------------------------------------------------------------------------
// File: version.h
// -----------------------------------------------------------------------------
//
// The maas release number, as macros and as a constexpr string.

#ifndef MAAS_VERSION_H_
#define MAAS_VERSION_H_

#define MAAS_VERSION_MAJOR 0
#define MAAS_VERSION_MINOR 1
#define MAAS_VERSION_PATCH 0

namespace maas {

// kVersionString
//
// "MAJOR.MINOR.PATCH" of this copy of maas, e.g. for logging at startup.
inline constexpr const char kVersionString[] = "0.1.0";

}  // namespace maas

#endif  // MAAS_VERSION_H_
