// Mapping of OS error codes to canonical absl::Status codes, shared by every port so that an
// injected fault and a real one produce the same status.

#ifndef EDICT_PORTS_IO_STATUS_H_
#define EDICT_PORTS_IO_STATUS_H_

#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace edict::ports {

// Returns the status for a failed step: `error` is an errno value (portable C/C++ codes:
// ENOSPC, EROFS, EACCES, ...). The message is "<what> <path>: <system message>".
//   ENOSPC, EDQUOT, EFBIG, ENOMEM      -> ResourceExhausted
//   EROFS, EACCES, EPERM               -> PermissionDenied
//   ENOENT                             -> NotFound
//   EEXIST                             -> AlreadyExists
//   EINTR, EAGAIN, EBUSY, EIO          -> Unavailable (retry later)
//   anything else                      -> absl::ErrnoToStatusCode
absl::Status IoErrorStatus(int error, absl::string_view what, absl::string_view path);

// Same for a std::errc (what FaultInjector returns).
absl::Status IoErrorStatus(std::errc error, absl::string_view what, absl::string_view path);

}  // namespace edict::ports

#endif  // EDICT_PORTS_IO_STATUS_H_
