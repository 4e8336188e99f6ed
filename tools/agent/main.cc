// edict-agent: the endpoint agent. `edict-agent help` lists the commands; docs/agent.md
// describes them and every configuration key.
#ifdef _WIN32
#include <process.h>
#else
#include <unistd.h>
#endif

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ports/text.h"
#include "tools/agent/agent.h"
#include "tools/agent/config.h"
#include "tools/cli/args.h"
#include "tools/cli/files.h"
#include "tools/cli/policy.h"
#include "tools/cli/query.h"
#include "tools/cli/strings.h"
#ifdef _WIN32
#include "tools/agent/service_windows.h"
#endif

namespace edict::agent {
namespace {

#ifdef _WIN32
constexpr char kUsage[] =
    "usage: edict-agent [--config FILE] <command> [options]\n"
    "\n"
    "edict endpoint agent: verifies signed policy bundles dropped into the spool directory,\n"
    "activates them durably, writes the effective policy into the registry\n"
    "(HKLM\\SOFTWARE\\Policies\\<vendor>\\<product>) and audits everything (Event Log and a\n"
    "JSON-lines file).\n"
    "\n"
    "commands:\n"
    "  run        watch the spool (ReadDirectoryChangesW), activate, materialise, audit;\n"
    "             Ctrl+C exits cleanly\n"
    "  once       process the spool once and exit\n"
    "  status     active serial, trust version, last activation, last error [--json]\n"
    "  query      answer a query from the active policy (same output as edictctl eval)\n"
    "  explain    explain an answer from the active policy (same as edictctl explain)\n"
    "  unenroll   remove exactly what the registry store owns, and the stored state\n"
    "  service    install | uninstall | run: the Windows service (edict-agent)\n"
    "\n"
    "--config FILE  configuration (default %ProgramData%\\edict\\agent.conf; built-in defaults\n"
    "               if that file does not exist). Every key: docs/agent.md, docs/windows.md.\n"
    "`edict-agent <command> --help` describes a command.\n"
    "\n"
    "Exit status: 0 ok; 1 failure (also any start-up failure but a held lock); 2 usage or\n"
    "configuration error (the file named by --config missing, unreadable, not a regular\n"
    "file, or not parsing: reported as FILE:LINE: reason); 3 another agent is running (the\n"
    "single-instance lock is held).\n";

constexpr char kRunHelp[] =
    "usage: edict-agent [--config FILE] run\n"
    "\n"
    "Takes the single-instance lock (a named mutex), re-verifies the stored state, enforces\n"
    "it, then watches spool_dir with ReadDirectoryChangesW (polling if that is unavailable).\n"
    "A spool file is processed once it was renamed in, or no process has it open for writing\n"
    "any more, and its size and modification time stayed unchanged for settle_ms. Names\n"
    "starting with '.' or ending in .tmp, .part, .partial or ~ are ignored (write there, then\n"
    "rename). Processed files move to spool_dir\\processed, refused ones to\n"
    "spool_dir\\rejected; anything but a regular file (a reparse point, a directory) is\n"
    "refused and left where it is; files that failed for a transient reason are retried after\n"
    "retry_seconds. Ctrl+C, Ctrl+Break or closing the console exits 0; as a service, the\n"
    "stop control does, and the paramchange control re-reads the configuration.\n";
#else
constexpr char kUsage[] =
    "usage: edict-agent [--config FILE] <command> [options]\n"
    "\n"
    "edict endpoint agent: verifies signed policy bundles dropped into the spool directory or\n"
    "fetched from HTTPS pull sources, activates them durably, writes the effective policy into "
    "native stores (managed JSON,\n"
    "dconf) and audits everything.\n"
    "\n"
    "commands:\n"
    "  run        daemon: watch the spool (inotify), activate, materialise, audit;\n"
    "             SIGHUP re-reads the config, SIGTERM exits cleanly\n"
    "  once       process the spool once, poll the pull sources once, and exit\n"
    "  status     active serial, trust version, last activation, last error [--json]\n"
    "  query      answer a query from the active policy (same output as edictctl eval)\n"
    "  explain    explain an answer from the active policy (same as edictctl explain)\n"
    "  unenroll   remove exactly what the native stores own, and the stored state\n"
    "\n"
    "--config FILE  configuration (default /etc/edict/agent.conf; built-in defaults if that\n"
    "               file does not exist). Every key: docs/agent.md.\n"
    "`edict-agent <command> --help` describes a command.\n"
    "\n"
    "Exit status: 0 ok; 1 failure (also any start-up failure but a held lock); 2 usage or\n"
    "configuration error (the file named by --config missing, unreadable, not a regular\n"
    "file, or not parsing: reported as FILE:LINE: reason); 3 another agent is running (the\n"
    "single-instance lock is held).\n";

constexpr char kRunHelp[] =
    "usage: edict-agent [--config FILE] run\n"
    "\n"
    "Takes the single-instance lock, re-verifies the stored state (trust chain and active\n"
    "bundle; a damaged or no longer valid state is audited and replaced by the previous good\n"
    "generation or the catalogue defaults), enforces it, then watches spool_dir with inotify.\n"
    "A spool file is processed once it was closed after writing (IN_CLOSE_WRITE) or moved in\n"
    "(IN_MOVED_TO) and its size and mtime stayed unchanged for settle_ms; a file never closed\n"
    "is considered after incomplete_grace_seconds unchanged. Names starting with '.' or\n"
    "ending in .tmp, .part, .partial or ~ are ignored (write there, then rename). Processed\n"
    "files move to spool_dir/processed/, refused ones to spool_dir/rejected/ (the newest\n"
    "processed_keep / rejected_keep are kept); anything but a regular file (FIFO, device,\n"
    "symbolic link, directory) is refused without being opened and left where it is. Files\n"
    "that failed for a transient reason (disk full, read-only state) stay and are retried\n"
    "after retry_seconds; so is a native store\n"
    "that could not be written (a problem in status until it holds the active policy).\n"
    "Pull sources (source.NAME.url, docs/agent.md) are polled on their schedule: the first\n"
    "poll within poll_splay seconds, then every poll_interval + U[0, poll_jitter) seconds,\n"
    "with exponential backoff after failures and Retry-After honoured.\n"
    "SIGHUP re-reads the configuration and re-verifies the state; SIGTERM or SIGINT exits 0.\n";
#endif

constexpr char kOnceHelp[] =
    "usage: edict-agent [--config FILE] once [--source URL]... [--ca-file FILE] [--pin PIN]...\n"
    "                                        [--pins-only] [--allow-http]\n"
    "\n"
    "Like run, but processes the spool once, polls the pull sources once (whatever their\n"
    "schedule) and exits: spool files whose size or mtime change during settle_ms are left\n"
    "for the next pass, as are young files that do not parse yet (half-written).\n"
    "Without --source every configured source (source.NAME.url) is polled; with --source\n"
    "(repeatable) only those index URLs are, with the TLS options given here (--ca-file: trust\n"
    "exactly the CAs in this PEM file instead of the system bundle; --pin: SHA-256 of the\n"
    "server's SubjectPublicKeyInfo, 64 hex digits or sha256/BASE64; --pins-only; --allow-http)\n"
    "or, when none is given and the URL is a configured source's, with that source's. Each\n"
    "source's status is saved in the state directory (ETag, digests) and shown by status.\n"
    "Prints one line per spool file, one per source (its result: OK, NOT_MODIFIED, UNCHANGED\n"
    "or a PULL_* code; then each offered document's result, activated or an ERR_* code) and a\n"
    "summary. Exit 0 if the agent started, nothing was rejected or left for a retry, every\n"
    "native store holds the active policy and every poll and offer succeeded; 1 otherwise\n"
    "(a native store that could not be written is retried at the next once); 2 usage or\n"
    "configuration error; 3 another agent holds the lock.\n";

constexpr char kStatusHelp[] =
    "usage: edict-agent [--config FILE] status [--json]\n"
    "\n"
    "Reads the state directory without writing to it, re-verifies it in full, and prints the\n"
    "active serial (or 'catalogue defaults'), its source generation, the trust version, the\n"
    "anti-rollback state, any problem found, and the last activation and last error recorded\n"
    "in the audit file. --json prints one JSON object with the keys state_dir, source,\n"
    "serial, trust_version, last_serial, rollback_epoch, time_floor, catalog_version,\n"
    "issued_at, expires_at, activated_at, digest, signer_key_ids, skipped_rules, problems,\n"
    "last_activation, last_error (audit lines or null), spool_pending, sources (one object per\n"
    "pull source: name, url, last_attempt, last_success, last_change, last_result,\n"
    "last_error, http_status, etag, last_modified, bytes_received, bytes_total, polls,\n"
    "consecutive_failures, bundle_sha256, trust_sha256, index_serial), catalog_dirs,\n"
    "catalogs, catalog_errors, context_errors (each configuration line\n"
    "context.<product>.<name> = VALUE that the loaded catalogues cannot resolve: its line and\n"
    "why; that attribute is left unknown for the native stores).\n";

constexpr char kQueryHelp[] =
    "usage: edict-agent [--config FILE] query SETTING [--ctx KEY=VALUE]... [--user-choice V]\n"
    "                                         [--user-choice-at-creation]\n"
    "       edict-agent [--config FILE] query setting|data-use|schedule ... (as edictctl eval)\n"
    "       edict-agent [--config FILE] query --batch FILE\n"
    "       edict-agent [--config FILE] explain [--candidates] <same arguments>\n"
    "\n"
    "Answers from the active, re-verified policy in the state directory (read-only), with\n"
    "exactly the output of `edictctl eval` / `edictctl explain` (docs/policy-format.md).\n"
    "Context keys: identity=managed|unmanaged, domain_joined=true|false,\n"
    "device_managed=true|false, plan=enterprise|small_business|trial, os_generation=N,\n"
    "device_state=tampered,not_genuine, groups=a,b, role=user|admin|organiser|participant,\n"
    "account_creation=true|false, region=US, and <product>.<name> attributes of the loaded\n"
    "product catalogues (e.g. acmevpn.network_trust=trusted).\n"
    "Exit status: 0 ok; 1 the state could not be read or a --batch line was not answered;\n"
    "2 usage error.\n";

constexpr char kUnenrollHelp[] =
    "usage: edict-agent [--config FILE] unenroll\n"
    "\n"
    "Takes the lock, removes every file, key and profile line the native stores recorded as\n"
    "theirs (nothing else), removes the stored trust chain, active bundle and anti-rollback\n"
    "floor, and audits it. The pinned trust document and the configuration are left alone.\n";

bool IsHelp(std::string_view a) { return a == "--help" || a == "-h"; }

int Usage(const char* message) {
  std::fprintf(stderr, "edict-agent: %s\n(see edict-agent --help)\n", message);
  return kExitUsage;
}

// Only the default file may be missing (built-in defaults); any other failure to read or
// parse the configuration is a configuration error (exit 2) and nothing is touched.
absl::StatusOr<AgentConfig> Config(const std::string& path, bool explicit_path) {
  auto c = LoadConfig(path);
  if (c.ok()) return c;
  if (absl::IsNotFound(c.status()) && !explicit_path) return ParseConfig("", "");
  return absl::InvalidArgumentError(c.status().message());
}

int Pid() {
#ifdef _WIN32
  return _getpid();
#else
  return static_cast<int>(getpid());
#endif
}

int RunDaemon(const AgentConfig& config, bool once) {
  auto agent = Agent::Open(config);
  if (!agent.ok()) {
    if (IsLockHeld(agent.status())) {
      std::fprintf(stderr, "edict-agent: not starting: %s\n",
                   std::string(agent.status().message()).c_str());
      return kExitLocked;
    }
    if (absl::IsInvalidArgument(agent.status())) {
      std::fprintf(stderr, "edict-agent: configuration error: %s\n",
                   std::string(agent.status().message()).c_str());
      return kExitUsage;
    }
    std::fprintf(stderr, "edict-agent: cannot start: %s\n",
                 std::string(agent.status().message()).c_str());
    return kExitFailure;
  }
  absl::Status started = (*agent)->Start();
  if (!started.ok()) {
    std::fprintf(stderr, "edict-agent: warning: %s (running on the catalogue defaults)\n",
                 std::string(started.message()).c_str());
  }
  if (once) {
    SpoolReport r = (*agent)->ProcessSpool(/*settle=*/true);
    for (const std::string& l : r.lines) std::printf("%s\n", l.c_str());
    bool pulled_ok = true;
    for (const std::string& l : (*agent)->PollSourcesNow(&pulled_ok)) {
      std::printf("%s\n", l.c_str());
    }
    const transport::ActiveStateInfo info = (*agent)->activation().Info();
    const absl::Status enforced = (*agent)->activation().native_error();
    if (!enforced.ok()) {
      std::printf("not enforced: %s\n", std::string(enforced.message()).c_str());
    }
    std::printf(
        "activated %d, rejected %d, deferred %d, retry %d; active serial %llu, trust "
        "version %llu\n",
        r.activated, r.rejected, r.deferred, r.retry, static_cast<unsigned long long>(info.serial),
        static_cast<unsigned long long>(info.trust_version));
    // Exit 1 when anything was refused, left for a retry or not enforced (docs/agent.md).
    const bool all_ok =
        started.ok() && pulled_ok && enforced.ok() && r.rejected == 0 && r.retry == 0;
    return all_ok ? kExitOk : kExitFailure;
  }
  std::fprintf(stderr, "edict-agent: running (pid %d), watching %s\n", Pid(),
               config.spool_dir.c_str());
  absl::Status s = (*agent)->Run();
  if (!s.ok()) {
    std::fprintf(stderr, "edict-agent: %s\n", std::string(s.message()).c_str());
    return kExitFailure;
  }
  return kExitOk;
}

int RunQuery(const AgentConfig& config, const std::vector<std::string_view>& args_in,
             bool explain) {
  std::vector<std::string_view> args;
  bool positional_seen = false;
  for (size_t i = 0; i < args_in.size(); ++i) {
    const std::string_view a = args_in[i];
    if (a == "--policy" || a.substr(0, 9) == "--policy=") {
      return Usage("query/explain answer from the active state; --policy is edictctl's");
    }
    const bool takes_value = a == "--ctx" || a == "--user-choice" || a == "--batch";
    if (!positional_seen && !a.empty() && a[0] != '-') {
      positional_seen = true;
      if (a != "setting" && a != "data-use" && a != "schedule") args.push_back("setting");
    }
    args.push_back(a);
    if (takes_value && i + 1 < args_in.size()) args.push_back(args_in[++i]);
  }
  // The state first: setting ids are looked up in the catalogue set it was activated against.
  auto view = LoadStatus(config);
  if (!view.ok()) {
    std::fprintf(stderr, "edict-agent: cannot read the state: %s\n",
                 std::string(view.status().message()).c_str());
    return kExitFailure;
  }
  const Snapshot& snapshot = view->state->snapshot();
  const CatalogSet& catalogs = snapshot.catalogs();
  for (const std::string& e : view->catalog_errors) {
    std::fprintf(stderr, "edict-agent: warning: %s\n", ports::EscapeForDisplay(e).c_str());
  }
  absl::StatusOr<cli::EvalArgs> parsed = cli::ParseEvalArgs(args, explain, catalogs);
  if (!parsed.ok()) return Usage(std::string(parsed.status().message()).c_str());
  for (const std::string& p : view->state->info().problems) {
    std::fprintf(stderr, "edict-agent: warning: %s\n", p.c_str());
  }
  const ExplainDetail detail =
      parsed->candidates ? ExplainDetail::kWithCandidates : ExplainDetail::kSentence;
  if (!parsed->batch.empty()) {
    // Streamed line by line through the command line's one capped reader (tools/cli/files.h):
    // a regular file or standard input, memory bounded by the line cap.
    int failures = 0;
    const absl::Status read = cli::ForEachInputLine(
        parsed->batch, cli::kMaxBatchLineBytes, [&](size_t, std::string_view line) {
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.empty()) return;
          auto q = cli::ParseQueryText(line, catalogs);
          if (!q.ok()) {
            ++failures;
            std::printf("%s\n", cli::RenderError(cli::MessageOf(q.status())).c_str());
            return;
          }
          const cli::Answer a = cli::Evaluate(snapshot, *q);
          std::printf("%s\n", (explain ? cli::Explain(snapshot, *q, a, detail)
                                       : cli::RenderAnswer(a, catalogs))
                                  .c_str());
        });
    if (!read.ok()) {
      std::fflush(stdout);
      std::fprintf(stderr, "edict-agent: %s\n", std::string(read.message()).c_str());
      return kExitFailure;
    }
    return failures ? kExitFailure : kExitOk;
  }
  const cli::Answer a = cli::Evaluate(snapshot, parsed->query);
  std::printf("%s\n", (explain ? cli::Explain(snapshot, parsed->query, a, detail)
                               : cli::RenderAnswer(a, catalogs))
                          .c_str());
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::string config_path = DefaultConfigPath();
  bool explicit_config = false;
  std::string command;
  std::vector<std::string_view> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--config") {
      if (i + 1 >= argc) return Usage("--config needs a file");
      config_path = argv[++i];
      explicit_config = true;
    } else if (a.substr(0, 9) == "--config=") {
      config_path = std::string(a.substr(9));
      explicit_config = true;
    } else if (command.empty() && (IsHelp(a) || a == "help")) {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (command.empty() && !a.empty() && a[0] != '-') {
      command = std::string(a);
    } else if (command.empty()) {
      return Usage("unknown option before the command");
    } else {
      rest.push_back(a);
    }
  }
  if (command.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const char* help = nullptr;
  if (command == "run") help = kRunHelp;
  if (command == "once") help = kOnceHelp;
  if (command == "status") help = kStatusHelp;
  if (command == "query" || command == "explain") help = kQueryHelp;
  if (command == "unenroll") help = kUnenrollHelp;
#ifdef _WIN32
  if (command == "service") help = kServiceHelp;
#endif
  if (!help) return Usage("unknown command");
  for (std::string_view a : rest) {
    if (IsHelp(a)) {
      std::fputs(help, stdout);
      return kExitOk;
    }
  }
#ifdef _WIN32
  if (command == "service") {
    return ServiceCommand(rest, explicit_config ? config_path : std::string(),
                          [&]() { return Config(config_path, explicit_config); });
  }
#endif
  auto config = Config(config_path, explicit_config);
  if (!config.ok()) {
    std::fprintf(stderr, "edict-agent: configuration error: %s\n",
                 std::string(config.status().message()).c_str());
    return kExitUsage;
  }

  if (command == "once") {
    // --source URL (repeatable) with the TLS options for those sources.
    std::vector<std::string> urls;
    PullSourceSpec cli;
    bool tls_given = false;
    for (size_t i = 0; i < rest.size(); ++i) {
      const std::string_view a = rest[i];
      auto value = [&](std::string* out) {
        if (i + 1 >= rest.size()) return false;
        *out = std::string(rest[++i]);
        return true;
      };
      std::string v;
      if (a == "--source") {
        if (!value(&v)) return Usage("--source needs an index URL");
        urls.push_back(v);
      } else if (a == "--ca-file") {
        if (!value(&v)) return Usage("--ca-file needs a PEM file");
        cli.ca_file = v;
        tls_given = true;
      } else if (a == "--pin") {
        std::array<uint8_t, 32> pin{};
        if (!value(&v) || !ParsePin(v, &pin)) {
          return Usage("--pin needs 64 hex digits or sha256/BASE64");
        }
        cli.pins.push_back(pin);
        tls_given = true;
      } else if (a == "--pins-only") {
        cli.pins_only = true;
        tls_given = true;
      } else if (a == "--allow-http") {
        cli.allow_http = true;
        tls_given = true;
      } else {
        return Usage(
            "once takes --source URL, --ca-file FILE, --pin PIN, --pins-only, "
            "--allow-http");
      }
    }
    if (tls_given && urls.empty()) return Usage("TLS options apply to --source URLs only");
    if (cli.pins_only && cli.pins.empty()) return Usage("--pins-only needs --pin");
    if (!urls.empty()) {
      std::vector<PullSourceSpec> sources;
      for (const std::string& url : urls) {
        PullSourceSpec spec = cli;
        spec.name = url;
        spec.url = url;
        if (!tls_given) {
          for (const PullSourceSpec& c : config->sources) {
            if (c.url == url) spec = c;
          }
        }
        sources.push_back(std::move(spec));
      }
      config->sources = std::move(sources);
    }
    return RunDaemon(*config, /*once=*/true);
  }
  if (command == "run" || command == "unenroll") {
    if (!rest.empty()) return Usage("this command takes no arguments");
    if (command == "unenroll") {
      auto agent = Agent::Open(*config);
      if (!agent.ok()) {
        std::fprintf(stderr, "edict-agent: %s\n", std::string(agent.status().message()).c_str());
        if (IsLockHeld(agent.status())) return kExitLocked;
        return absl::IsInvalidArgument(agent.status()) ? kExitUsage : kExitFailure;
      }
      absl::Status s = (*agent)->Unenroll();
      if (!s.ok()) {
        std::fprintf(stderr, "edict-agent: unenroll incomplete: %s\n",
                     std::string(s.message()).c_str());
        return kExitFailure;
      }
      std::printf("unenrolled: native stores cleared, state removed\n");
      return kExitOk;
    }
    return RunDaemon(*config, /*once=*/false);
  }
  if (command == "status") {
    bool as_json = false;
    for (std::string_view a : rest) {
      if (a == "--json") {
        as_json = true;
      } else {
        return Usage("status takes only --json");
      }
    }
    auto view = LoadStatus(*config);
    if (!view.ok()) {
      std::fprintf(stderr, "edict-agent: cannot read the state: %s\n",
                   std::string(view.status().message()).c_str());
      return kExitFailure;
    }
    const std::string out =
        as_json ? RenderStatusJson(*config, *view) + "\n" : RenderStatusText(*config, *view);
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  return RunQuery(*config, rest, command == "explain");
}

}  // namespace
}  // namespace edict::agent

int main(int argc, char** argv) { return edict::agent::Main(argc, argv); }
