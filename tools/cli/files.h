// The command line's one way to read an input file and one way to write an output file
// (issue 17, "Hostile input at the edges", classes 6 and 7). Used by every edictctl command
// and by edict-agent's query --batch; the caps are listed in docs/policy-format.md ("Input
// limits and output paths") and docs/hostile-input.md.
//
// Reading: only regular files (a FIFO, device, socket or directory is refused without
// blocking: the name is stat()ed first, then opened with O_NONBLOCK and fstat()ed again),
// never more than the cap (a file the file system says is larger is refused before anything
// is read; one that grows while being read is refused when it passes the cap), and "-" means
// standard input where the caller allows it (still capped). Every error names the file and
// the reason, caps in human units: "big.json: larger than the 4 MiB limit for policy JSON".
//
// Writing: never replaces anything that is not a regular file (FIFO, device, socket,
// directory) and never writes through a symbolic link; a file is replaced atomically
// (temporary file next to it, fsync, rename) or, when `exclusive`, created only if absent.
// "-" means standard output where the caller allows it.
#ifndef EDICT_TOOLS_CLI_FILES_H_
#define EDICT_TOOLS_CLI_FILES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edict::cli {

// ---- Caps of the command line's own inputs (the transport's caps, transport::Limits, are
// used for bundles, payloads and trust documents) ---------------------------------------------

// A compiled payload read on its own (eval --policy, inspect): it must fit in a bundle, so
// this equals transport::Limits().max_bundle_bytes (edictctl checks that they agree).
inline constexpr size_t kMaxPayloadBytes = size_t{4} << 20;  // 4 MiB
// Policy JSON (compile, inspect, eval --policy) and conformance vectors.
inline constexpr size_t kMaxPolicyJsonBytes = size_t{4} << 20;  // 4 MiB
// A PEM key file (keygen output, sign --key, trust --root/--signer/--sign-key).
inline constexpr size_t kMaxKeyFileBytes = size_t{64} << 10;  // 64 KiB
// One line of a --batch stream (a query); the stream itself is read line by line, so its
// length is not limited and memory stays bounded by this.
inline constexpr size_t kMaxBatchLineBytes = size_t{64} << 10;  // 64 KiB

// `bytes` in human units: exact in the largest unit that divides it ("4 MiB", "4092 KiB",
// "300 bytes"), else one decimal rounded up in the largest unit giving at least 10 ("190.8 MiB",
// "4096.1 KiB": a size just over a limit never reads as the limit).
std::string HumanBytes(uint64_t bytes);

// ---- Reading ----------------------------------------------------------------------------

struct ReadOptions {
  // What the file holds, for the "larger than" message: "policy JSON", "a bundle", ...
  std::string_view what = "this input";
  // "-" reads standard input (which may be a pipe or terminal; still capped).
  bool allow_stdin = false;
  // false: a symbolic link as the last component is refused ("is a symbolic link; not
  // followed"), as the agent reads its spool (POSIX only; ignored on Windows).
  bool follow_symlinks = true;
};

// The whole content of `path`, at most `cap` bytes. Errors (message "PATH: reason"):
// NotFound / PermissionDenied / Unavailable (open or read failed, with strerror),
// FailedPrecondition (a directory or other non-regular file), ResourceExhausted (larger than
// `cap`).
absl::StatusOr<std::string> ReadInputFile(const std::string& path, size_t cap,
                                          const ReadOptions& options = {});

// Streams `path` ("-" = standard input) line by line with memory bounded by `max_line`:
// calls `on_line(line_number, line)` (1-based; the line without its '\n'; a final line
// without '\n' is passed too). Refuses non-regular files as ReadInputFile does (standard
// input excepted). A line longer than `max_line` stops the stream with ResourceExhausted
// "PATH: line N is longer than the 64 KiB limit for one line"; lines before it have been
// passed on.
absl::Status ForEachInputLine(const std::string& path, size_t max_line,
                              const std::function<void(size_t, std::string_view)>& on_line);

// ---- Writing ----------------------------------------------------------------------------

struct WriteOptions {
  // Permission bits of a new file, set with fchmod (the umask does not change them). Not
  // applied on Windows (the file gets its directory's ACL).
  int mode = 0644;
  // Create the file only if nothing is at `path` (AlreadyExists otherwise); without it an
  // existing regular file is replaced atomically.
  bool exclusive = false;
  // "-" writes to standard output.
  bool allow_stdout = false;
  // The data is binary: refused on a terminal ("-" with standard output a terminal).
  bool binary = false;
};

// Checks that `path` may be written with `options` without writing anything: OK if nothing
// is there, or (not `exclusive`) a regular file is; FailedPrecondition for a directory,
// FIFO, device, socket or symbolic link (message "PATH: is a FIFO, not a regular file;
// refusing to replace it"), AlreadyExists when `exclusive`. "-" is OK when allow_stdout.
absl::Status CheckOutputPath(const std::string& path, const WriteOptions& options = {});

// Writes `data` to `path` (see the top of this file). On failure nothing is left behind: no
// temporary file, and `path` keeps its previous content. Errors name the path.
absl::Status WriteOutputFile(const std::string& path, std::string_view data,
                             const WriteOptions& options = {});

// True if `path` names standard output ("-") under `options`.
inline bool IsStdout(const std::string& path, const WriteOptions& options) {
  return options.allow_stdout && path == "-";
}

}  // namespace edict::cli

#endif  // EDICT_TOOLS_CLI_FILES_H_
