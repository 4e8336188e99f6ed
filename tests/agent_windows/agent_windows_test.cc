// edict-agent on Windows, under wine: spool -> verify -> activate -> registry -> audit,
// product catalogue settings under their product's key, tampering rejected, status and unenroll
// (in-process and through edict-agent.exe), the ReadDirectoryChangesW daemon loop stopped by an
// event, and the service round trip.

#include <windows.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "policy/catalog/catalog_set.h"
#include "policy/catalog/catalog_source.h"
#include "policy/compiler/compiler.h"
#include "ports/audit.h"
#include "ports/windows/registry_store.h"
#include "ports/windows/win_io.h"
#include "ports/windows/win_process.h"
#include "tests/ports_windows/test_util.h"
#include "tools/agent/agent.h"
#include "tools/agent/config.h"
#include "tools/agent/service_windows.h"
#include "transport/bundle.h"
#include "transport/keys.h"
#include "transport/trust.h"

#ifndef EDICT_AGENT_BINARY
#error "EDICT_AGENT_BINARY must be defined"
#endif

namespace edict::agent {
namespace {

using ports::wintest::ListDir;
using ports::wintest::ReadFileOrNull;
using ports::wintest::TempDir;
using ports::wintest::TempRegistryKey;
using ports::wintest::WriteFileOrDie;

std::atomic<int> counter{0};

std::string AsString(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// A root key, a signer and a trust document naming them; bundles compiled from policy JSON.
struct Keys {
  std::unique_ptr<transport::PrivateSigningKey> root = *transport::PrivateSigningKey::Generate();
  std::unique_ptr<transport::PrivateSigningKey> signer = *transport::PrivateSigningKey::Generate();

  std::string Trust() const {
    transport::TrustSpec spec;
    spec.version = 1;
    spec.issued_at = absl::ToUnixSeconds(absl::Now()) - 86400;
    spec.expires_at = spec.issued_at + 365 * 86400;
    spec.keys = {
        {root->public_key(), transport::KeyRole::kRoot, transport::KeyStatus::kActive, ""},
        {signer->public_key(), transport::KeyRole::kSigner, transport::KeyStatus::kActive, ""}};
    const transport::PrivateSigningKey* signers[] = {root.get()};
    return AsString(*transport::BuildTrustDocument(spec, signers));
  }

  // communicator.ceip mandatory = (serial odd); client_logging recommended true.
  std::string Bundle(uint64_t serial) const {
    const absl::Time now = absl::Now();
    const std::string json = absl::StrCat(
        R"({ "format": 1, "serial": )", serial, R"(, "issued_at": ")", Iso(now - absl::Hours(1)),
        R"(", "expires_at": ")", Iso(now + absl::Hours(24)),
        R"(", "target": { "tenant": "contoso" }, "settings": [)",
        R"({ "setting": "communicator.ceip", "level": "mandatory", "value": )",
        serial % 2 == 1 ? "true" : "false", "},",
        R"({ "setting": "communicator.client_logging", "level": "recommended", "value": true }]})");
    const compiler::CompileResult compiled = compiler::Compile(json, "test.json");
    EXPECT_TRUE(compiled.ok()) << json;
    const transport::PrivateSigningKey* keys[] = {signer.get()};
    const std::string& p = compiled.payload;
    return AsString(*transport::SignBundle(
        transport::Bytes(reinterpret_cast<const uint8_t*>(p.data()), p.size()), keys));
  }
};

const Keys& TestKeys() {
  static const Keys* keys = new Keys();
  return *keys;
}

// An agent configuration entirely inside `dir`, materialising into HKCU\<key>.
struct Endpoint {
  TempDir dir;
  TempRegistryKey key;
  std::string conf_path = dir.Sub("agent.conf");
  std::string lock =
      absl::StrCat("Local\\edict-agent-test-", ::GetCurrentProcessId(), "-", counter++);

  std::string ConfigText() const {
    return absl::StrCat(
        "state_dir = ", dir.Sub("state"), "\nspool_dir = ", dir.Sub("spool"),
        "\nlock_file = ", lock, "\ntrust_pinned = ", dir.Sub("trust.edt"),
        "\naudit_file = ", dir.Sub("log\\audit.jsonl"),
        "\naudit_syslog = true\ntenant = contoso\ndevice_id = win-device-1\n",
        "registry_root = HKCU\\", key.path(), "\nregistry_vendor = Contoso\n",
        "registry_product = Edict\nsettle_ms = 100\nincomplete_grace_seconds = 30\n");
  }
  AgentConfig Config() {
    WriteFileOrDie(dir.Sub("trust.edt"), TestKeys().Trust());
    WriteFileOrDie(conf_path, ConfigText());
    auto c = LoadConfig(conf_path);
    EXPECT_TRUE(c.ok()) << c.status();
    ::CreateDirectoryW(ports::win::Widen(dir.Sub("spool")).c_str(), nullptr);
    return c.ok() ? *c : AgentConfig{};
  }
  std::string Mandatory() const { return key.path() + "\\Contoso\\Edict"; }
  std::string Recommended() const { return Mandatory() + "\\Recommended"; }
  // The mandatory REG_DWORD communicator.ceip, or -1 if absent.
  int64_t Ceip() const {
    auto v = ports::ReadRegistryValue(false, Mandatory(), "communicator.ceip");
    return v.ok() ? static_cast<int64_t>(v->number) : -1;
  }
};

// edict-agent.exe, copied next to this test by the build.
std::string AgentExe() {
  return ports::win::JoinPath(ports::win::DirName(ports::CurrentExecutablePath()),
                              EDICT_AGENT_BINARY);
}

// Runs edict-agent.exe with `args`; its stdout and stderr go to *out. Returns the exit code.
long RunAgent(const std::vector<std::string>& args, std::string* out) {
  const std::string exe = AgentExe();
  std::string cmd = ports::QuoteWindowsArgument(exe);
  for (const std::string& a : args) absl::StrAppend(&cmd, " ", ports::QuoteWindowsArgument(a));
  TempDir tmp;
  const std::string out_path = tmp.Sub("out.txt");
  SECURITY_ATTRIBUTES sa = {sizeof(sa), nullptr, TRUE};
  HANDLE h = ::CreateFileW(ports::win::Widen(out_path).c_str(), GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return -1;
  STARTUPINFOW si = {};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = nullptr;
  si.hStdOutput = h;
  si.hStdError = h;
  PROCESS_INFORMATION pi = {};
  std::wstring wcmd = ports::win::Widen(cmd);
  if (!::CreateProcessW(ports::win::Widen(exe).c_str(), wcmd.data(), nullptr, nullptr, TRUE,
                        CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi)) {
    ::CloseHandle(h);
    return -1;
  }
  ::CloseHandle(pi.hThread);
  ::CloseHandle(h);
  DWORD code = static_cast<DWORD>(-1);
  if (::WaitForSingleObject(pi.hProcess, 120000) == WAIT_OBJECT_0) {
    ::GetExitCodeProcess(pi.hProcess, &code);
  } else {
    ::TerminateProcess(pi.hProcess, 1);
  }
  ::CloseHandle(pi.hProcess);
  *out = ReadFileOrNull(out_path).value_or("");
  return static_cast<long>(code);
}

// Sets a file's last-write time (the spool judges young unparsable files by it).
void Age(const std::string& path, absl::Duration by) {
  HANDLE h = ::CreateFileW(ports::win::Widen(path).c_str(), FILE_WRITE_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(h, INVALID_HANDLE_VALUE);
  const int64_t t = (absl::ToUnixNanos(absl::Now() - by) / 100) + 116444736000000000LL;
  FILETIME ft = {static_cast<DWORD>(t), static_cast<DWORD>(t >> 32)};
  ASSERT_TRUE(::SetFileTime(h, nullptr, nullptr, &ft));
  ::CloseHandle(h);
}

// A flipped bit in the middle (the signed payload): still parses, no longer verifies.
std::string Tampered(std::string b) {
  b[b.size() / 2] ^= 0x01;
  return b;
}

// An opened and started agent whose audit events also go to `audit` (may be null).
std::unique_ptr<Agent> Started(const AgentConfig& c, ports::MemoryAuditSink* audit) {
  AgentHooks hooks;
  hooks.extra_audit = audit;
  auto agent = Agent::Open(c, hooks);
  EXPECT_TRUE(agent.ok()) << agent.status();
  if (!agent.ok()) return nullptr;
  EXPECT_TRUE((*agent)->Start().ok());
  return *std::move(agent);
}

TEST(AgentWindowsConfig, DefaultsAreWindowsOnes) {
  const AgentConfig c = DefaultConfig();
  EXPECT_TRUE(absl::StrContains(c.state_dir, "\\edict\\state")) << c.state_dir;
  EXPECT_TRUE(absl::StrContains(c.spool_dir, "\\edict\\spool")) << c.spool_dir;
  EXPECT_EQ(c.lock_file, "Global\\edict-agent");
  EXPECT_TRUE(c.registry);
  EXPECT_TRUE(c.registry_local_machine);
  EXPECT_EQ(c.registry_key, "SOFTWARE\\Policies");
  EXPECT_FALSE(c.managed_json);
  EXPECT_FALSE(c.dconf);
  EXPECT_TRUE(absl::EndsWith(DefaultConfigPath(), "\\edict\\agent.conf")) << DefaultConfigPath();

  auto parsed = ParseConfig("registry_root = HKCU\\Software\\edict-test\nstate_dir = C:\\x\n", "t");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->registry_local_machine);
  EXPECT_EQ(parsed->registry_key, "Software\\edict-test");
  for (const char* bad :
       {"registry_root = HKXX\\a\n", "registry_root = HKLM\n", "registry_root = HKLM\\a\\\\b\n",
        "state_dir = relative\n", "state_dir = /unix/path\n", "lock_file = Global\\a\\b\n",
        "registry_vendor = a/b\n"}) {
    EXPECT_FALSE(ParseConfig(bad, "t").ok()) << bad;
  }
  EXPECT_TRUE(ParseConfig("state_dir = \\\\server\\share\\edict\n", "t").ok());
}

TEST(AgentWindowsConfig, LinuxStoresAreAConfigurationError) {
  Endpoint s;
  AgentConfig c = s.Config();
  c.managed_json = true;
  auto agent = Agent::Open(c);
  ASSERT_FALSE(agent.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(agent.status())) << agent.status();
}

TEST(AgentWindowsServiceCommandLine, QuotesTheBinaryAndTheConfig) {
  EXPECT_EQ(ServiceCommandLine("C:\\Program Files\\edict\\edict-agent.exe", "", "edict-agent"),
            "\"C:\\Program Files\\edict\\edict-agent.exe\" service run");
  EXPECT_EQ(ServiceCommandLine("C:\\e.exe", "C:\\Program Data\\a b\\agent.conf", "svc-1"),
            "\"C:\\e.exe\" --config \"C:\\Program Data\\a b\\agent.conf\" service run --name "
            "svc-1");
  EXPECT_EQ(ServiceCommandLine("C:\\e.exe", "C:\\dir\\", "edict-agent"),
            "\"C:\\e.exe\" --config C:\\dir\\ service run");
  EXPECT_EQ(ServiceCommandLine("C:\\e.exe", "C:\\my dir\\", "edict-agent"),
            "\"C:\\e.exe\" --config \"C:\\my dir\\\\\" service run");
}

TEST(AgentWindowsSpool, BundleActivatedIntoTheRegistryTamperedRejectedStatusAndUnenroll) {
  Endpoint s;
  const AgentConfig c = s.Config();
  ports::MemoryAuditSink audit;
  std::unique_ptr<Agent> agent = Started(c, &audit);
  ASSERT_NE(agent, nullptr);

  // A second agent on the same mutex is refused.
  auto second = Agent::Open(c);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();

  WriteFileOrDie(s.dir.Sub("spool\\b2.edict"), TestKeys().Bundle(2));
  SpoolReport r = agent->ProcessSpool(true);
  EXPECT_EQ(r.activated, 1) << absl::StrJoin(r.lines, "\n");
  EXPECT_EQ(agent->activation().Info().serial, 2u);
  EXPECT_EQ(s.Ceip(), 0);
  auto rec = ports::ReadRegistryValue(false, s.Recommended(), "communicator.client_logging");
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(rec->number, 1u);
  EXPECT_EQ(ListDir(s.dir.Sub("spool\\processed")).size(), 1u);

  // Tampered (a flipped signature bit): rejected, moved aside, audited; nothing changes.
  WriteFileOrDie(s.dir.Sub("spool\\b3.edict"), Tampered(TestKeys().Bundle(3)));
  r = agent->ProcessSpool(true);
  EXPECT_EQ(r.rejected, 1) << absl::StrJoin(r.lines, "\n");
  EXPECT_EQ(agent->activation().Info().serial, 2u);
  EXPECT_EQ(s.Ceip(), 0);
  const std::vector<std::string> rejected = ListDir(s.dir.Sub("spool\\rejected"));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_TRUE(absl::EndsWith(rejected[0], "-b3.edict")) << rejected[0];
  EXPECT_TRUE(ListDir(s.dir.Sub("spool")) == (std::vector<std::string>{"processed", "rejected"}));
  const std::string file = ReadFileOrNull(s.dir.Sub("log\\audit.jsonl")).value_or("");
  EXPECT_TRUE(absl::StrContains(file, "\"kind\":\"activation\"")) << file;
  EXPECT_TRUE(absl::StrContains(file, "\"kind\":\"rejection\",\"code\":\"ERR_")) << file;

  // status, from the state directory, read-only.
  auto view = LoadStatus(c);
  ASSERT_TRUE(view.ok()) << view.status();
  const std::string text = RenderStatusText(c, *view);
  EXPECT_TRUE(absl::StrContains(text, "active serial:   2")) << text;
  EXPECT_TRUE(absl::StrContains(text, "last error:      {")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"kind\":\"rejection\"")) << text;
  EXPECT_TRUE(absl::StrContains(RenderStatusJson(c, *view), "\"serial\":2,"));

  ASSERT_TRUE(agent->Unenroll().ok());
  EXPECT_EQ(s.Ceip(), -1);
  EXPECT_TRUE(ports::ListRegistryValues(false, s.Recommended()).empty());
  EXPECT_FALSE(ports::RegistryKeyExists(false, s.Mandatory()));
}

// A product catalogue: acmevpn by "Acme Networks", "Acme VPN" (an explicit DWord and String
// mapping, and a derived name).
std::string AcmeCatalogue() {
  const std::string src = R"({
  "version": 1,
  "product": {"id": "acmevpn", "vendor": "Acme Networks", "display_name": "Acme VPN"},
  "settings": [
    {"id": "acmevpn.always_on", "num": 0, "type": "Bool", "default": "false",
     "setters": "Admin", "scope": "Device", "description": "Keep the tunnel up.",
     "source": "VPN-REQ-001", "native": {"registry_value": "AlwaysOn", "registry_type": "DWord"}},
    {"id": "acmevpn.lockdown_mode", "num": 1, "type": "Bool", "default": "false",
     "setters": "Admin", "scope": "Device", "description": "Block traffic outside the tunnel.",
     "source": "VPN-REQ-002"},
    {"id": "acmevpn.protocol", "num": 2, "type": "Enum", "values": ["auto", "wireguard"],
     "default": "auto", "setters": "Admin", "scope": "Device", "description": "Protocol.",
     "source": "VPN-REQ-016",
     "native": {"registry_value": "Protocol", "registry_type": "String"}}
  ]
})";
  auto built = catalogs::BuildCatalog(src, "acmevpn.json");
  EXPECT_TRUE(built.ok()) << built.status();
  return built.value_or("");
}

// communicator.ceip and three acmevpn settings, compiled against `set`.
std::string ProductBundle(uint64_t serial, const CatalogSet& set) {
  const absl::Time now = absl::Now();
  const std::string json = absl::StrCat(
      R"({ "format": 1, "serial": )", serial, R"(, "issued_at": ")", Iso(now - absl::Hours(1)),
      R"(", "expires_at": ")", Iso(now + absl::Hours(24)),
      R"(", "target": { "tenant": "contoso" }, "settings": [)",
      R"({ "setting": "communicator.ceip", "level": "mandatory", "value": true },)",
      R"({ "setting": "acmevpn.always_on", "level": "mandatory", "value": true },)",
      R"({ "setting": "acmevpn.protocol", "level": "mandatory", "value": "wireguard" },)",
      R"({ "setting": "acmevpn.lockdown_mode", "level": "recommended", "value": true }]})");
  const compiler::CompileResult compiled = compiler::Compile(json, "product.json", set);
  EXPECT_TRUE(compiled.ok()) << absl::StrJoin(compiled.Rendered(), "\n");
  const transport::PrivateSigningKey* keys[] = {TestKeys().signer.get()};
  const std::string& p = compiled.payload;
  return AsString(*transport::SignBundle(
      transport::Bytes(reinterpret_cast<const uint8_t*>(p.data()), p.size()), keys));
}

TEST(AgentWindowsCatalogs, ProductSettingsGoUnderTheProductKeyAndLeaveWithTheCatalogue) {
  Endpoint s;
  const std::string dir = s.dir.Sub("catalogs");
  ASSERT_TRUE(::CreateDirectoryW(ports::win::Widen(dir).c_str(), nullptr));
  const std::string file = dir + "\\acmevpn.edcat";
  const std::string bytes = AcmeCatalogue();
  WriteFileOrDie(file, bytes);
  AgentConfig c = s.Config();
  c.catalog_dirs = {dir};
  std::unique_ptr<Agent> agent = Started(c, nullptr);
  ASSERT_NE(agent, nullptr);
  ASSERT_EQ(agent->catalogs().size(), 1u) << absl::StrJoin(agent->catalog_errors(), "\n");
  auto set = CatalogSet::Create({{file, bytes}});
  ASSERT_TRUE(set.ok()) << set.status();

  WriteFileOrDie(s.dir.Sub("spool\\b5.edict"), ProductBundle(5, **set));
  SpoolReport r = agent->ProcessSpool(true);
  ASSERT_EQ(r.activated, 1) << absl::StrJoin(r.lines, "\n");
  EXPECT_EQ(s.Ceip(), 1);
  const std::string vpn = s.key.path() + "\\Acme Networks\\Acme VPN";
  EXPECT_EQ(ports::ListRegistryValues(false, vpn),
            (std::vector<std::string>{"AlwaysOn", "Protocol"}));
  auto always_on = ports::ReadRegistryValue(false, vpn, "AlwaysOn");
  ASSERT_TRUE(always_on.ok()) << always_on.status();
  EXPECT_EQ(always_on->type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(always_on->number, 1u);
  auto protocol = ports::ReadRegistryValue(false, vpn, "Protocol");
  ASSERT_TRUE(protocol.ok()) << protocol.status();
  EXPECT_EQ(protocol->type, static_cast<unsigned long>(REG_SZ));
  EXPECT_EQ(protocol->text, "wireguard");
  auto lockdown = ports::ReadRegistryValue(false, vpn + "\\Recommended", "acmevpn.lockdown_mode");
  ASSERT_TRUE(lockdown.ok()) << lockdown.status();
  EXPECT_EQ(lockdown->type, static_cast<unsigned long>(REG_DWORD));
  EXPECT_EQ(lockdown->number, 1u);
  EXPECT_TRUE(ports::ListRegistryValues(false, s.Mandatory()) ==
              (std::vector<std::string>{"communicator.ceip"}));

  // The catalogue removed: its values go, a value the vendor's installer wrote stays, the
  // built-in settings are as they were.
  ports::wintest::SetUserString(vpn, "InstallDir", "C:\\Acme");
  ASSERT_TRUE(::DeleteFileW(ports::win::Widen(file).c_str()));
  EXPECT_TRUE(agent->CheckCatalogs(true)) << absl::StrJoin(agent->catalog_errors(), "\n");
  EXPECT_EQ(ports::ListRegistryValues(false, vpn), (std::vector<std::string>{"InstallDir"}));
  EXPECT_FALSE(ports::RegistryKeyExists(false, vpn + "\\Recommended"));
  EXPECT_EQ(s.Ceip(), 1);

  ASSERT_TRUE(agent->Unenroll().ok());
  EXPECT_EQ(ports::ListRegistryValues(false, vpn), (std::vector<std::string>{"InstallDir"}));
  EXPECT_FALSE(ports::RegistryKeyExists(false, s.Mandatory()));
}

// The Windows counterpart of StrictModes for catalogues: a directory or file whose DACL lets
// Everyone write is refused with its path and the reason; made admin-only, it is loaded.
TEST(AgentWindowsCatalogs, DirectoryOrFileWritableByOthersIsRefused) {
  using ports::wintest::GrantEveryoneWrite;
  using ports::wintest::kAdminOnlyDirDacl;
  using ports::wintest::kAdminOnlyFileDacl;
  using ports::wintest::SetDaclFromSddl;
  Endpoint s;
  const std::string dir = s.dir.Sub("catalogs");
  ASSERT_TRUE(::CreateDirectoryW(ports::win::Widen(dir).c_str(), nullptr));
  const std::string file = dir + "\\acmevpn.edcat";
  WriteFileOrDie(file, AcmeCatalogue());
  ASSERT_EQ(GrantEveryoneWrite(dir), 0u);
  AgentConfig c = s.Config();
  c.catalog_dirs = {dir};
  std::unique_ptr<Agent> agent = Started(c, nullptr);
  ASSERT_NE(agent, nullptr);
  EXPECT_TRUE(agent->catalogs().empty());
  std::string errors = absl::StrJoin(agent->catalog_errors(), "\n");
  EXPECT_TRUE(absl::StrContains(
      errors, "catalogue directory: refusing directory " + dir + ": it is writable by "))
      << errors;
  EXPECT_TRUE(absl::StrContains(errors, "(S-1-1-0)")) << errors;

  ASSERT_EQ(SetDaclFromSddl(dir, kAdminOnlyDirDacl), 0u);
  ASSERT_EQ(SetDaclFromSddl(file, kAdminOnlyFileDacl), 0u);
  EXPECT_TRUE(agent->CheckCatalogs(true)) << absl::StrJoin(agent->catalog_errors(), "\n");
  EXPECT_EQ(agent->catalogs().size(), 1u);

  // The file alone widened: noticed without a forced check (its change time moved), refused,
  // and the set in use stays.
  absl::SleepFor(absl::Milliseconds(50));  // past the file system's timestamp granularity
  ASSERT_EQ(GrantEveryoneWrite(file), 0u);
  EXPECT_FALSE(agent->CheckCatalogs());
  errors = absl::StrJoin(agent->catalog_errors(), "\n");
  EXPECT_TRUE(
      absl::StrContains(errors, "catalogue: refusing file " + file + ": it is writable by "))
      << errors;
  EXPECT_EQ(agent->catalogs().size(), 1u);
}

TEST(AgentWindowsSpool, YoungHalfWrittenFileWaitsThenAnOldOneIsRejected) {
  Endpoint s;
  const AgentConfig c = s.Config();
  std::unique_ptr<Agent> agent = Started(c, nullptr);
  ASSERT_NE(agent, nullptr);
  const std::string b = TestKeys().Bundle(5);
  WriteFileOrDie(s.dir.Sub("spool\\half.edict"), b.substr(0, b.size() / 2));
  SpoolReport r = agent->ProcessSpool(true);
  EXPECT_EQ(r.deferred, 1) << absl::StrJoin(r.lines, "\n");
  Age(s.dir.Sub("spool\\half.edict"), absl::Minutes(5));
  r = agent->ProcessSpool(true);
  EXPECT_EQ(r.rejected, 1) << absl::StrJoin(r.lines, "\n");
}

TEST(AgentWindowsBinary, OnceStatusQueryUnenrollThroughTheExe) {
  Endpoint s;
  s.Config();
  std::string out;
  WriteFileOrDie(s.dir.Sub("spool\\b3.edict"), TestKeys().Bundle(3));
  WriteFileOrDie(s.dir.Sub("spool\\bad.edict"), Tampered(TestKeys().Bundle(4)));
  // A rejected file makes `once` exit 1 (docs/agent.md); the good one is still activated.
  ASSERT_EQ(RunAgent({"--config", s.conf_path, "once"}, &out), kExitFailure) << out;
  EXPECT_TRUE(absl::StrContains(out, "activated 1, rejected 1")) << out;
  EXPECT_EQ(s.Ceip(), 1);
  ASSERT_EQ(RunAgent({"--config", s.conf_path, "status", "--json"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "\"serial\":3,")) << out;
  ASSERT_EQ(RunAgent({"--config", s.conf_path, "query", "communicator.ceip"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "true")) << out;
  ASSERT_EQ(RunAgent({"--config", s.conf_path, "unenroll"}, &out), 0) << out;
  EXPECT_EQ(s.Ceip(), -1);
  ASSERT_EQ(RunAgent({"--config", s.conf_path, "status"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "catalogue defaults")) << out;
  // Usage errors and help.
  EXPECT_EQ(RunAgent({"--config", s.conf_path, "bogus"}, &out), kExitUsage) << out;
  EXPECT_EQ(RunAgent({"service", "--help"}, &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "service install")) << out;
  // `service run` from a console is not a service.
  EXPECT_EQ(RunAgent({"--config", s.conf_path, "service", "run"}, &out), kExitUsage) << out;
}

// Waits until `done` or `limit` passes.
template <typename F>
bool WaitFor(F done, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (done()) return true;
    ::Sleep(50);
  }
  return done();
}

TEST(AgentWindowsRun, WatcherNoticesNewFilesAndWaitsForTheWriter) {
  Endpoint s;
  const AgentConfig c = s.Config();
  ports::MemoryAuditSink audit;
  std::unique_ptr<Agent> agent = Started(c, &audit);
  ASSERT_NE(agent, nullptr);
  HANDLE stop = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  absl::Status result = absl::UnknownError("not run");
  std::thread loop([&] { result = agent->Run(stop); });
  ::Sleep(300);  // the watch is set up

  // Written under a temporary name, then renamed in.
  WriteFileOrDie(s.dir.Sub("spool\\b2.tmp"), TestKeys().Bundle(2));
  ASSERT_TRUE(::MoveFileW(ports::win::Widen(s.dir.Sub("spool\\b2.tmp")).c_str(),
                          ports::win::Widen(s.dir.Sub("spool\\b2.edict")).c_str()));
  EXPECT_TRUE(WaitFor([&] { return agent->activation().Info().serial == 2; }))
      << "the renamed bundle was not activated";

  // Written in place by a writer that keeps the file open: not touched until it closes.
  const std::string b4 = TestKeys().Bundle(4);
  HANDLE w = ::CreateFileW(ports::win::Widen(s.dir.Sub("spool\\b4.edict")).c_str(), GENERIC_WRITE,
                           FILE_SHARE_READ, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(w, INVALID_HANDLE_VALUE);
  DWORD n = 0;
  ASSERT_TRUE(::WriteFile(w, b4.data(), static_cast<DWORD>(b4.size() / 2), &n, nullptr));
  ::Sleep(1000);  // ten settle windows
  EXPECT_EQ(agent->activation().Info().serial, 2u);
  EXPECT_TRUE(ports::wintest::PathExists(s.dir.Sub("spool\\b4.edict")));
  ASSERT_TRUE(::WriteFile(w, b4.data() + b4.size() / 2,
                          static_cast<DWORD>(b4.size() - b4.size() / 2), &n, nullptr));
  ::CloseHandle(w);
  EXPECT_TRUE(WaitFor([&] { return agent->activation().Info().serial == 4; }))
      << "the bundle was not activated once its writer closed it";
  EXPECT_EQ(s.Ceip(), 0);

  ::SetEvent(stop);
  loop.join();
  ::CloseHandle(stop);
  EXPECT_TRUE(result.ok()) << result;
  bool stopped = false;
  for (const auto& e : audit.Events()) stopped = stopped || e.kind == ports::AuditKind::kStop;
  EXPECT_TRUE(stopped);
}

// SCM handles for the test.
struct Sc {
  explicit Sc(SC_HANDLE h) : h(h) {}
  ~Sc() {
    if (h) ::CloseServiceHandle(h);
  }
  SC_HANDLE h;
};

DWORD ServiceState(SC_HANDLE svc, SERVICE_STATUS* st) {
  return ::QueryServiceStatus(svc, st) ? st->dwCurrentState : 0;
}

// Installs a uniquely named service for an endpoint through edict-agent.exe (skipping the test
// when the SCM denies it: not an administrator) and uninstalls it at the end, whatever failed.
class AgentWindowsService : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.Config();
    std::string out;
    const long installed =
        RunAgent({"--config", s_.conf_path, "service", "install", "--name", name_}, &out);
    if (installed != 0 && absl::StrContains(out, "access denied")) {
      GTEST_SKIP() << "creating services needs an administrator: " << out;
    }
    ASSERT_EQ(installed, 0) << out;
    installed_ = true;
  }
  void TearDown() override {
    std::string out;
    if (installed_) RunAgent({"service", "uninstall", "--name", name_}, &out);
  }

  Endpoint s_;
  const std::string name_ = absl::StrCat("edict-test-", ::GetCurrentProcessId(), "-", counter++);
  bool installed_ = false;
};

TEST_F(AgentWindowsService, InstallQueryUninstallRoundTrip) {
  std::string out;
  EXPECT_EQ(RunAgent({"--config", s_.conf_path, "service", "install", "--name", name_}, &out), 1);
  EXPECT_TRUE(absl::StrContains(out, "already installed")) << out;
  {
    Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    ASSERT_NE(scm.h, nullptr);
    Sc svc(::OpenServiceW(scm.h, ports::win::Widen(name_).c_str(), SERVICE_QUERY_CONFIG));
    ASSERT_NE(svc.h, nullptr) << ::GetLastError();
    DWORD needed = 0;
    ::QueryServiceConfigW(svc.h, nullptr, 0, &needed);
    std::vector<char> buf(needed + 16);
    auto* qc = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buf.data());
    ASSERT_TRUE(::QueryServiceConfigW(svc.h, qc, static_cast<DWORD>(buf.size()), &needed));
    EXPECT_EQ(qc->dwStartType, static_cast<DWORD>(SERVICE_AUTO_START));
    EXPECT_EQ(qc->dwServiceType & SERVICE_WIN32_OWN_PROCESS,
              static_cast<DWORD>(SERVICE_WIN32_OWN_PROCESS));
    EXPECT_EQ(ports::win::Narrow(qc->lpBinaryPathName),
              ServiceCommandLine(AgentExe(), s_.conf_path, name_));
  }
  ASSERT_EQ(RunAgent({"service", "uninstall", "--name", name_}, &out), 0) << out;
  installed_ = false;
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  Sc gone(::OpenServiceW(scm.h, ports::win::Widen(name_).c_str(), SERVICE_QUERY_STATUS));
  EXPECT_EQ(gone.h, nullptr);
  EXPECT_EQ(RunAgent({"service", "uninstall", "--name", name_}, &out), 1) << out;
  EXPECT_TRUE(absl::StrContains(out, "not installed")) << out;
}

TEST_F(AgentWindowsService, StartedByTheScmActivatesTheSpoolAndStopsCleanly) {
  Sc scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  ASSERT_NE(scm.h, nullptr);
  Sc svc(::OpenServiceW(scm.h, ports::win::Widen(name_).c_str(),
                        SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS));
  ASSERT_NE(svc.h, nullptr) << ::GetLastError();
  // `service run` connects to the dispatcher, reports RUNNING, the daemon activates a bundle
  // from the spool, and the stop control ends it with exit 0 and a stop audit event.
  WriteFileOrDie(s_.dir.Sub("spool\\b1.edict"), TestKeys().Bundle(1));
  ASSERT_TRUE(::StartServiceW(svc.h, 0, nullptr)) << ::GetLastError();
  SERVICE_STATUS st = {};
  EXPECT_TRUE(WaitFor([&] { return ServiceState(svc.h, &st) == SERVICE_RUNNING; }))
      << "state " << st.dwCurrentState << ", exit " << st.dwWin32ExitCode << "/"
      << st.dwServiceSpecificExitCode;
  EXPECT_TRUE(WaitFor([&] {
    std::string o;
    return RunAgent({"--config", s_.conf_path, "status", "--json"}, &o) == 0 &&
           absl::StrContains(o, "\"serial\":1,");
  })) << "the service did not activate the spool's bundle";
  EXPECT_TRUE(::ControlService(svc.h, SERVICE_CONTROL_STOP, &st)) << ::GetLastError();
  EXPECT_TRUE(WaitFor([&] { return ServiceState(svc.h, &st) == SERVICE_STOPPED; }));
  EXPECT_EQ(st.dwWin32ExitCode, static_cast<DWORD>(NO_ERROR))
      << "service-specific " << st.dwServiceSpecificExitCode;
  const std::string audit = ReadFileOrNull(s_.dir.Sub("log\\audit.jsonl")).value_or("");
  EXPECT_TRUE(absl::StrContains(audit, "edict-agent stopping")) << audit;
}

// ---- Issue 17 "Hostile input at the edges", classes 1, 2 and 8 on Windows -----------------

// A directory symbolic link `link` -> `target`; false where the file system or wine cannot.
bool DirLink(const std::string& link, const std::string& target) {
  constexpr DWORD kUnprivileged = 0x2;  // SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
  if (!::CreateSymbolicLinkW(ports::win::Widen(link).c_str(), ports::win::Widen(target).c_str(),
                             SYMBOLIC_LINK_FLAG_DIRECTORY | kUnprivileged)) {
    return false;
  }
  const DWORD a = ::GetFileAttributesW(ports::win::Widen(link).c_str());
  return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_REPARSE_POINT);
}

TEST(HostileInput, SpecialFilesInSpool) {
  Endpoint s;
  AgentConfig c = s.Config();
  c.max_bundle_bytes = c.max_trust_bytes = 65536;
  std::unique_ptr<Agent> agent = Started(c, nullptr);
  ASSERT_NE(agent, nullptr);
  WriteFileOrDie(s.dir.Sub("spool\\b1.edict"), TestKeys().Bundle(1));
  ASSERT_EQ(agent->ProcessSpool(true).activated, 1);
  ASSERT_EQ(s.Ceip(), 1);
  // A directory and an oversized file; a directory link when the system can make one.
  ASSERT_TRUE(
      ::CreateDirectoryW(ports::win::Widen(s.dir.Sub("spool\\dir.edict")).c_str(), nullptr));
  WriteFileOrDie(s.dir.Sub("spool\\big.edict"), std::string(65537, 'E'));
  ::CreateDirectoryW(ports::win::Widen(s.dir.Sub("outside")).c_str(), nullptr);
  WriteFileOrDie(s.dir.Sub("outside\\keep"), "mine");
  const bool linked = DirLink(s.dir.Sub("spool\\link.edict"), s.dir.Sub("outside"));
  SpoolReport r = agent->ProcessSpool(true);
  const std::string lines = absl::StrJoin(r.lines, "\n");
  EXPECT_EQ(r.rejected, linked ? 3 : 2) << lines;
  EXPECT_TRUE(absl::StrContains(lines, "dir.edict: refused (")) << lines;
  EXPECT_TRUE(absl::StrContains(lines, "is a directory, not a regular file")) << lines;
  EXPECT_TRUE(absl::StrContains(lines, "big.edict: rejected: ERR_TOO_LARGE")) << lines;
  if (linked) {
    EXPECT_TRUE(absl::StrContains(lines, "link.edict: refused (")) << lines;
  }
  EXPECT_TRUE(ports::win::WinIo::IsDirectory(s.dir.Sub("spool\\dir.edict")));
  EXPECT_EQ(ListDir(s.dir.Sub("outside")), std::vector<std::string>{"keep"});
  EXPECT_EQ(agent->activation().Info().serial, 1u);
  EXPECT_EQ(s.Ceip(), 1);
}

TEST(HostileInput, SymlinkedAgentDirectories) {
  Endpoint s;
  const AgentConfig c = s.Config();
  ::CreateDirectoryW(ports::win::Widen(s.dir.Sub("outside")).c_str(), nullptr);
  WriteFileOrDie(s.dir.Sub("outside\\00000000000000000000-000000-keep"), "mine");
  {
    std::unique_ptr<Agent> agent = Started(c, nullptr);
    ASSERT_NE(agent, nullptr);
    WriteFileOrDie(s.dir.Sub("spool\\b1.edict"), TestKeys().Bundle(1));
    ASSERT_EQ(agent->ProcessSpool(true).activated, 1);
    if (!DirLink(s.dir.Sub("spool\\rejected"), s.dir.Sub("outside"))) {
      GTEST_SKIP() << "directory symbolic links are not available here";
    }
    // Swapped while running: the pass is refused, the bundle waits, outside\ untouched.
    WriteFileOrDie(s.dir.Sub("spool\\bad.edict"), Tampered(TestKeys().Bundle(3)));
    SpoolReport r = agent->ProcessSpool(true);
    EXPECT_EQ(r.retry, 1);
    ASSERT_FALSE(r.lines.empty());
    EXPECT_TRUE(absl::StrContains(r.lines[0], "refusing directory " + s.dir.Sub("spool\\rejected") +
                                                  ": it is a reparse point"))
        << r.lines[0];
    EXPECT_EQ(agent->activation().Info().serial, 1u);
    EXPECT_EQ(s.Ceip(), 1);
  }
  // At start: refused with the directory and the reason.
  auto again = Agent::Open(c);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::StrContains(again.status().message(),
                                "refusing directory " + s.dir.Sub("spool\\rejected")))
      << again.status();
  EXPECT_EQ(ListDir(s.dir.Sub("outside")),
            std::vector<std::string>{"00000000000000000000-000000-keep"});
  EXPECT_TRUE(ports::win::WinIo::Exists(s.dir.Sub("spool\\bad.edict")));
  EXPECT_EQ(s.Ceip(), 1);
}

TEST(HostileInput, ForgedNamesAndValues) {
  Endpoint s;
  const AgentConfig c = s.Config();
  ports::MemoryAuditSink audit;
  std::unique_ptr<Agent> agent = Started(c, &audit);
  ASSERT_NE(agent, nullptr);
  WriteFileOrDie(s.dir.Sub("spool\\b1.edict"), TestKeys().Bundle(1));
  ASSERT_EQ(agent->ProcessSpool(true).activated, 1);
  // U+2028 (a line break to many viewers) and U+202E (right-to-left override) in a name.
  const std::string name =
      "x\xe2\x80\xa8"
      "b9 activated\xe2\x80\xae"
      ".edict";
  WriteFileOrDie(s.dir.Sub("spool\\" + name), Tampered(TestKeys().Bundle(9)));
  SpoolReport r = agent->ProcessSpool(true);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(r.lines[0], "x\\u2028b9 activated\\u202e.edict: bundle rejected"))
      << r.lines[0];
  EXPECT_EQ(r.lines[0].find("\xe2\x80"), std::string::npos) << r.lines[0];
  bool named = false;
  for (const auto& e : audit.Events()) {
    named |= e.kind == ports::AuditKind::kRejection &&
             absl::StartsWith(e.message, "spool file x\\u2028b9 activated\\u202e.edict: ");
  }
  EXPECT_TRUE(named);
  EXPECT_EQ(agent->activation().Info().serial, 1u);
  EXPECT_EQ(s.Ceip(), 1);
}

}  // namespace
}  // namespace edict::agent
