#include "ports/windows/win_instance_lock.h"

#include <windows.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

// Names held by this process: a Win32 mutex is recursive for its owning thread, so a second
// acquisition in the same process must be refused here.
absl::Mutex held_mu(absl::kConstInit);
std::set<std::string>& HeldNames() ABSL_EXCLUSIVE_LOCKS_REQUIRED(held_mu) {
  static std::set<std::string>* const names = new std::set<std::string>();
  return *names;
}

class WindowsInstanceLock : public InstanceLock {
 public:
  WindowsInstanceLock(std::string name, HANDLE mutex) : name_(std::move(name)), mutex_(mutex) {}
  ~WindowsInstanceLock() override {
    ::ReleaseMutex(mutex_);
    ::CloseHandle(mutex_);
    absl::MutexLock lock(&held_mu);
    HeldNames().erase(name_);
  }
  WindowsInstanceLock(const WindowsInstanceLock&) = delete;
  WindowsInstanceLock& operator=(const WindowsInstanceLock&) = delete;

  std::string Name() const override { return name_; }

 private:
  const std::string name_;
  const HANDLE mutex_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InstanceLock>> AcquireWindowsInstanceLock(
    const WindowsInstanceLockOptions& options) {
  const std::string& name = options.name;
  if (name.empty()) return absl::InvalidArgumentError("instance lock name is empty");
  absl::MutexLock lock(&held_mu);
  const absl::Status busy =
      absl::FailedPreconditionError(absl::StrCat("another edict instance holds ", name));
  if (HeldNames().count(name) > 0) return busy;
  HANDLE mutex = ::CreateMutexW(nullptr, FALSE, win::Widen(name).c_str());
  if (mutex == nullptr) {
    return win::Win32ErrorStatus(::GetLastError(), "create mutex", name);
  }
  const DWORD wait = ::WaitForSingleObject(mutex, 0);
  if (wait == WAIT_TIMEOUT) {
    ::CloseHandle(mutex);
    return busy;
  }
  if (wait != WAIT_OBJECT_0 && wait != WAIT_ABANDONED) {
    const DWORD error = ::GetLastError();
    ::CloseHandle(mutex);
    return win::Win32ErrorStatus(error, "lock mutex", name);
  }
  HeldNames().insert(name);
  return std::unique_ptr<InstanceLock>(new WindowsInstanceLock(name, mutex));
}

}  // namespace edict::ports
