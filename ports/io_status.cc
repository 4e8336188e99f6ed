#include "ports/io_status.h"

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace edict::ports {

absl::Status IoErrorStatus(int error, absl::string_view what, absl::string_view path) {
  absl::StatusCode code;
  switch (error) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG:
    case ENOMEM:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case EROFS:
    case EACCES:
    case EPERM:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case ENOENT:
      code = absl::StatusCode::kNotFound;
      break;
    case EEXIST:
      code = absl::StatusCode::kAlreadyExists;
      break;
    case EINTR:
    case EAGAIN:
    case EBUSY:
    case EIO:
      code = absl::StatusCode::kUnavailable;
      break;
    default:
      code = absl::ErrnoToStatusCode(error);
      if (code == absl::StatusCode::kOk) code = absl::StatusCode::kInternal;
      break;
  }
  return absl::Status(code,
                      absl::StrCat(what, " ", path, ": ", std::generic_category().message(error)));
}

absl::Status IoErrorStatus(std::errc error, absl::string_view what, absl::string_view path) {
  return IoErrorStatus(static_cast<int>(error), what, path);
}

}  // namespace edict::ports
