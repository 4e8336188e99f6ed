#include "ports/linux/owned_files.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace edict::ports::posix {

absl::StatusOr<OwnershipRecord> LoadOwnershipRecord(StateStore* state, const std::string& name) {
  absl::StatusOr<StateRead> read = state->ReadWithFallback(name);
  if (!read.ok()) {
    if (absl::IsNotFound(read.status())) return OwnershipRecord();
    return absl::Status(read.status().code(),
                        absl::StrCat("ownership record \"", name,
                                     "\" unreadable, refusing to guess what edict owns: ",
                                     read.status().message()));
  }
  return OwnershipRecord::Decode(read->bytes);
}

absl::Status SaveOwnershipRecord(StateStore* state, const std::string& name,
                                 const OwnershipRecord& record, const OwnershipRecord& previous) {
  if (record == previous) return absl::OkStatus();
  absl::StatusOr<std::string> text = record.Encode();
  if (!text.ok()) return text.status();
  return state->Write(name, *text);
}

absl::Status CheckNotForeign(const std::map<std::string, std::string>& files,
                             const OwnershipRecord& owned) {
  for (const auto& [path, content] : files) {
    if (!owned.Has(kFileSet, path) && PosixIo::Exists(path)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists but was not written by edict; refusing to overwrite it"));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFiles(PosixIo& io, const std::map<std::string, std::string>& files,
                        bool* changed) {
  for (const auto& [path, content] : files) {
    absl::StatusOr<std::string> existing = PosixIo::ReadFile(path, content.size() + 1);
    if (existing.ok() && *existing == content) continue;
    if (absl::Status s = io.MakeDirs(DirName(path), 0755); !s.ok()) return s;
    if (absl::Status s = io.WriteFileAtomically(path, content, 0644); !s.ok()) return s;
    *changed = true;
  }
  return absl::OkStatus();
}

absl::Status RemoveStaleFiles(PosixIo& io, const OwnershipRecord& owned,
                              const std::map<std::string, std::string>& keep, bool* changed) {
  std::set<std::string> dirs;
  for (const std::string& path : owned.Get(kFileSet)) {
    // A crash inside WriteFileAtomically leaves its temporary; the record names the target.
    const std::string tmp = absl::StrCat(path, kTempSuffix);
    if (PosixIo::Exists(tmp)) {
      if (absl::Status s = io.Unlink(tmp, /*missing_ok=*/true); !s.ok()) return s;
      dirs.insert(DirName(path));
    }
    if (keep.count(path) > 0) continue;
    if (!PosixIo::Exists(path)) continue;
    if (absl::Status s = io.Unlink(path, /*missing_ok=*/true); !s.ok()) return s;
    dirs.insert(DirName(path));
    *changed = true;
  }
  for (const std::string& dir : dirs) {
    if (absl::Status s = io.FsyncDir(dir); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace edict::ports::posix
