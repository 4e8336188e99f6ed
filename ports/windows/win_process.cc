#include "ports/windows/win_process.h"

#include <windows.h>

#include "absl/strings/str_cat.h"
#include "ports/windows/win_io.h"

namespace edict::ports {
namespace {

// Quotes one argument the way CommandLineToArgvW and the CRT parse it back.
std::wstring Quote(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"')
      out.append(backslashes * 2 + 1, L'\\');
    else
      out.append(backslashes, L'\\');
    backslashes = 0;
    out.push_back(c);
  }
  out.append(backslashes * 2, L'\\');
  out.push_back(L'"');
  return out;
}

}  // namespace

std::string QuoteWindowsArgument(const std::string& arg) {
  return win::Narrow(Quote(win::Widen(arg)));
}

void TerminateSelf() {
  ::TerminateProcess(::GetCurrentProcess(), kTerminateSelfExitCode);
  ::ExitProcess(kTerminateSelfExitCode);  // not reached
}

absl::StatusOr<unsigned> RunProcess(const std::vector<std::string>& argv, absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("empty command");
  std::wstring cmd;
  for (const std::string& a : argv) {
    if (!cmd.empty()) cmd.push_back(L' ');
    cmd += Quote(win::Widen(a));
  }
  STARTUPINFOW si = {};
  si.cb = sizeof(si);
  PROCESS_INFORMATION pi = {};
  if (!::CreateProcessW(win::Widen(argv[0]).c_str(), cmd.data(), nullptr, nullptr, FALSE,
                        CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi)) {
    return win::Win32ErrorStatus(::GetLastError(), "start", argv[0]);
  }
  ::CloseHandle(pi.hThread);
  const DWORD ms = static_cast<DWORD>(absl::ToInt64Milliseconds(timeout));
  if (::WaitForSingleObject(pi.hProcess, ms) != WAIT_OBJECT_0) {
    ::TerminateProcess(pi.hProcess, 1);
    ::CloseHandle(pi.hProcess);
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not finish in time"));
  }
  DWORD code = 0;
  ::GetExitCodeProcess(pi.hProcess, &code);
  ::CloseHandle(pi.hProcess);
  return static_cast<unsigned>(code);
}

std::string CurrentExecutablePath() {
  wchar_t buf[32768];
  const DWORD n = ::GetModuleFileNameW(nullptr, buf, 32768);
  return win::Narrow(buf, n);
}

}  // namespace edict::ports
