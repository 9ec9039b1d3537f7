// Internal: the mutex maas' own classes lock. Not part of the public API.
//
// A `std::mutex` with Clang thread-safety annotations, instead of
// `absl::Mutex`: ThreadSanitizer understands pthread mutexes, but not an
// `absl::Mutex` from an Abseil build without -fsanitize=thread (Debian's),
// which makes TSan report races on correctly locked data. The annotations
// keep `-Wthread-safety` (Clang) checking `ABSL_GUARDED_BY` members.

#ifndef MAAS_CORE_DETAIL_MUTEX_H_
#define MAAS_CORE_DETAIL_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace maas {
namespace detail {

// Mutex
//
// Non-recursive; not copyable or movable.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// MutexLock
//
// Holds `*mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace detail
}  // namespace maas

#endif  // MAAS_CORE_DETAIL_MUTEX_H_
