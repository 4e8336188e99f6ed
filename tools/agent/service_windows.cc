#include "tools/agent/service_windows.h"

#include <windows.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ports/windows/win_audit.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_process.h"
#include "tools/agent/agent.h"

namespace edict::agent {
namespace {

using ports::win::Narrow;
using ports::win::Widen;
using ports::win::Win32ErrorStatus;

// Owns an SC_HANDLE.
struct ScHandle {
  explicit ScHandle(SC_HANDLE h) : h(h) {}
  ~ScHandle() {
    if (h) ::CloseServiceHandle(h);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  SC_HANDLE h;
};

absl::Status ScError(absl::string_view what, const std::string& name) {
  const DWORD e = ::GetLastError();
  if (e == ERROR_ACCESS_DENIED) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " ", name, ": access denied (run as an administrator)"));
  }
  if (e == ERROR_SERVICE_EXISTS) {
    return absl::AlreadyExistsError(absl::StrCat("service ", name, " is already installed"));
  }
  if (e == ERROR_SERVICE_DOES_NOT_EXIST) {
    return absl::NotFoundError(absl::StrCat("service ", name, " is not installed"));
  }
  return Win32ErrorStatus(e, what, name);
}

std::string FullPath(const std::string& path) {
  wchar_t buf[32768];
  const DWORD n = ::GetFullPathNameW(Widen(path).c_str(), 32768, buf, nullptr);
  return n > 0 && n < 32768 ? Narrow(buf, n) : path;
}

// ---- The service process ----------------------------------------------------------------------

// What ServiceMain (on the dispatcher's thread) and the control handler share.
struct ServiceRuntime {
  std::wstring name;
  std::function<absl::StatusOr<AgentConfig>()> load_config;
  SERVICE_STATUS_HANDLE handle = nullptr;
  HANDLE stop = nullptr;
  HANDLE reload = nullptr;
  std::mutex mu;  // SetServiceStatus from two threads
  SERVICE_STATUS status = {};
  int exit_code = kExitOk;  // guarded by mu
};
ServiceRuntime* g_service = nullptr;

void Report(DWORD state, DWORD wait_hint = 0) {
  std::lock_guard<std::mutex> l(g_service->mu);
  SERVICE_STATUS& s = g_service->status;
  s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  s.dwCurrentState = state;
  s.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN |
                                                        SERVICE_ACCEPT_PARAMCHANGE
                                                  : 0;
  // Our exit statuses (configuration error, lock held) as a service-specific code.
  s.dwWin32ExitCode = g_service->exit_code == kExitOk ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  s.dwServiceSpecificExitCode = static_cast<DWORD>(g_service->exit_code);
  s.dwWaitHint = wait_hint;
  s.dwCheckPoint = (state == SERVICE_RUNNING || state == SERVICE_STOPPED) ? 0 : s.dwCheckPoint + 1;
  ::SetServiceStatus(g_service->handle, &s);
}

DWORD WINAPI OnControl(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      Report(SERVICE_STOP_PENDING, 30000);
      ::SetEvent(g_service->stop);
      return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
      ::SetEvent(g_service->reload);
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

// A service has no console: what would go to stderr goes to the Event Log.
void LogError(const std::string& message) {
  auto sink = ports::OpenEventLogAuditSink({});
  if (!sink.ok()) return;
  ports::AuditEvent e;
  e.time = absl::Now();
  e.kind = ports::AuditKind::kError;
  e.code = "SERVICE";
  e.message = message;
  (void)(*sink)->Record(e);
}

int RunAsService() {
  auto config = g_service->load_config();
  if (!config.ok()) {
    LogError(absl::StrCat("edict-agent service: ", config.status().message()));
    return absl::IsInvalidArgument(config.status()) ? kExitUsage : kExitFailure;
  }
  auto agent = Agent::Open(*config);
  if (!agent.ok()) {
    LogError(absl::StrCat("edict-agent service: not starting: ", agent.status().message()));
    if (IsLockHeld(agent.status())) return kExitLocked;
    if (absl::IsInvalidArgument(agent.status())) return kExitUsage;
    return kExitFailure;
  }
  (void)(*agent)->Start();  // a bad state is audited; the catalogue defaults are enforced
  Report(SERVICE_RUNNING);
  absl::Status s = (*agent)->Run(g_service->stop, g_service->reload);
  if (!s.ok()) {
    LogError(absl::StrCat("edict-agent service: ", s.message()));
    return kExitFailure;
  }
  return kExitOk;
}

void WINAPI ServiceMain(DWORD, wchar_t**) {
  g_service->handle = ::RegisterServiceCtrlHandlerExW(g_service->name.c_str(), OnControl, nullptr);
  if (g_service->handle == nullptr) return;
  Report(SERVICE_START_PENDING, 30000);
  // The agent (and its instance mutex, owned by a thread) lives and dies on this thread.
  const int code = RunAsService();
  {
    std::lock_guard<std::mutex> l(g_service->mu);
    g_service->exit_code = code;
  }
  Report(SERVICE_STOPPED);
}

int RunServiceDispatcher(const std::string& name,
                         std::function<absl::StatusOr<AgentConfig>()> load_config) {
  static ServiceRuntime runtime;
  runtime.name = Widen(name);
  runtime.load_config = std::move(load_config);
  runtime.stop = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  runtime.reload = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
  g_service = &runtime;
  SERVICE_TABLE_ENTRYW table[] = {{runtime.name.data(), ServiceMain}, {nullptr, nullptr}};
  if (!::StartServiceCtrlDispatcherW(table)) {
    const DWORD e = ::GetLastError();
    if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      std::fprintf(stderr,
                   "edict-agent: `service run` is for the service control manager; use `run` "
                   "in a console\n");
      return kExitUsage;
    }
    std::fprintf(
        stderr, "edict-agent: %s\n",
        std::string(Win32ErrorStatus(e, "StartServiceCtrlDispatcherW", name).message()).c_str());
    return kExitFailure;
  }
  return runtime.exit_code;
}

}  // namespace

std::string ServiceCommandLine(const std::string& exe, const std::string& config_path,
                               const std::string& name) {
  // The executable is always quoted: an unquoted path with spaces would let the SCM run
  // C:\Program.exe.
  std::string line = absl::StrCat("\"", exe, "\"");
  if (!config_path.empty()) {
    absl::StrAppend(&line, " --config ", ports::QuoteWindowsArgument(config_path));
  }
  absl::StrAppend(&line, " service run");
  if (name != kServiceName) absl::StrAppend(&line, " --name ", ports::QuoteWindowsArgument(name));
  return line;
}

absl::Status InstallService(const std::string& name, const std::string& exe,
                            const std::string& config_path) {
  ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm.h) return ScError("OpenSCManagerW", name);
  const std::wstring line =
      Widen(ServiceCommandLine(exe, config_path.empty() ? "" : FullPath(config_path), name));
  const std::wstring wname = Widen(name);
  const std::wstring display =
      Widen(name == kServiceName ? "edict agent" : "edict agent (" + name + ")");
  ScHandle svc(::CreateServiceW(
      scm.h, wname.c_str(), display.c_str(), SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS,
      SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, line.c_str(), nullptr,
      nullptr, nullptr, nullptr /* LocalSystem */, nullptr));
  if (!svc.h) return ScError("CreateServiceW", name);
  std::wstring text =
      L"Verifies signed edict policy bundles from the spool, activates them and writes the "
      L"effective policy into the registry.";
  SERVICE_DESCRIPTIONW description = {text.data()};
  (void)::ChangeServiceConfig2W(svc.h, SERVICE_CONFIG_DESCRIPTION, &description);
  return absl::OkStatus();
}

absl::Status UninstallService(const std::string& name) {
  ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm.h) return ScError("OpenSCManagerW", name);
  ScHandle svc(
      ::OpenServiceW(scm.h, Widen(name).c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!svc.h) return ScError("OpenServiceW", name);
  SERVICE_STATUS st = {};
  if (::QueryServiceStatus(svc.h, &st) && st.dwCurrentState != SERVICE_STOPPED) {
    (void)::ControlService(svc.h, SERVICE_CONTROL_STOP, &st);
    for (int i = 0; i < 300 && st.dwCurrentState != SERVICE_STOPPED; ++i) {
      ::Sleep(100);
      if (!::QueryServiceStatus(svc.h, &st)) break;
    }
  }
  if (!::DeleteService(svc.h)) {
    if (::GetLastError() == ERROR_SERVICE_MARKED_FOR_DELETE) return absl::OkStatus();
    return ScError("DeleteService", name);
  }
  return absl::OkStatus();
}

int ServiceCommand(const std::vector<std::string_view>& args, const std::string& config_path,
                   const std::function<absl::StatusOr<AgentConfig>()>& load_config) {
  auto usage = [](const char* m) {
    std::fprintf(stderr, "edict-agent: %s\n(see edict-agent service --help)\n", m);
    return kExitUsage;
  };
  if (args.empty()) return usage("service needs install, uninstall or run");
  const std::string_view verb = args[0];
  std::string name = kServiceName;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--name" && i + 1 < args.size()) {
      name = std::string(args[++i]);
    } else {
      return usage("service takes only --name NAME after the verb");
    }
  }
  if (name.empty() || name.size() > 256 || name.find_first_of("/\\") != std::string::npos) {
    return usage("--name: a service name without slashes");
  }
  if (verb == "install") {
    absl::Status s = InstallService(name, ports::CurrentExecutablePath(), config_path);
    if (!s.ok()) {
      std::fprintf(stderr, "edict-agent: %s\n", std::string(s.message()).c_str());
      return kExitFailure;
    }
    std::printf("service %s installed (automatic start); start it with `sc start %s`\n",
                name.c_str(), name.c_str());
    return kExitOk;
  }
  if (verb == "uninstall") {
    if (!config_path.empty()) return usage("service uninstall takes no --config");
    absl::Status s = UninstallService(name);
    if (!s.ok()) {
      std::fprintf(stderr, "edict-agent: %s\n", std::string(s.message()).c_str());
      return kExitFailure;
    }
    std::printf("service %s stopped and removed\n", name.c_str());
    return kExitOk;
  }
  if (verb == "run") return RunServiceDispatcher(name, load_config);
  return usage("service needs install, uninstall or run");
}

}  // namespace edict::agent
