// File helpers shared by edictctl's key, trust and bundle commands.
#ifndef EDICT_TOOLS_EDICTCTL_FILES_H_
#define EDICT_TOOLS_EDICTCTL_FILES_H_

#include <cstddef>
#include <string>

namespace edict::ctl {

// Reads at most `cap` bytes of `path`; a larger file is refused from its size, before
// anything is read or allocated. On failure `err` says why, naming the path.
bool ReadCapped(const std::string& path, size_t cap, std::string* out, std::string* err);

// Writes `data` to `path` with exactly `mode` (fchmod, so the umask cannot widen or
// narrow it; no mode bits on Windows) and fsyncs it; with `exclusive`, an existing file is
// an error.
bool WriteFileMode(const std::string& path, const std::string& data, int mode, bool exclusive,
                   std::string* err);

}  // namespace edict::ctl

#endif  // EDICT_TOOLS_EDICTCTL_FILES_H_
