/* An endpoint agent's use of libedict, in C: open the policy the edict-agent enforces (or a
 * signed bundle), ask the seed questions, explain the answers, and notice re-activation.
 *
 *   agent_integration --state DIR [--pinned-trust FILE]
 *   agent_integration --bundle FILE --trust FILE [--tenant T] [--now UNIX_SECONDS]
 *   agent_integration --payload FILE        (UNVERIFIED compiled payload; tests only)
 *   agent_integration --defaults
 * Any of these with [--catalog FILE.edcat]... : open the policy against the built-in
 * catalogue plus those product catalogues (`edictctl catalog build`), e.g. Acme VPN's
 * (examples/catalogs/acmevpn.json), whose settings and context attributes it then uses.
 *
 * Questions, for a managed identity on a domain-joined PC:
 *   1. Is CEIP (usage telemetry, communicator.ceip) locked off?
 *   2. May usage data be used for correspondence?
 *   3. With the Acme VPN catalogue, on an untrusted network and on battery: must the VPN
 *      be always on, and how often does it keep the tunnel alive?
 * Output is one `key=value` line per fact, then the explanations. Exit 0 when answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edict/edict.h"

static int Usage(void) {
  fprintf(stderr,
          "usage: agent_integration --state DIR [--pinned-trust FILE]\n"
          "       agent_integration --bundle FILE --trust FILE [--tenant T] [--now SECONDS]\n"
          "       agent_integration --payload FILE | --defaults\n"
          "       ... [--catalog FILE.edcat]...\n");
  return 2;
}

static unsigned char* ReadFile(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  unsigned char* data = NULL;
  size_t cap = 0;
  *size = 0;
  if (f == NULL) return NULL;
  for (;;) {
    size_t n;
    if (*size == cap) {
      unsigned char* bigger;
      cap = cap ? cap * 2 : 65536;
      bigger = (unsigned char*)realloc(data, cap);
      if (bigger == NULL) break;
      data = bigger;
    }
    n = fread(data + *size, 1, cap - *size, f);
    *size += n;
    if (n == 0) break;
  }
  fclose(f);
  return data;
}

int main(int argc, char** argv) {
  const char* state = NULL;
  const char* pinned = NULL;
  const char* bundle = NULL;
  const char* trust = NULL;
  const char* payload = NULL;
  const char* tenant = "";
  long long now = 0;
  int defaults = 0;
  int i;
  const char* version = NULL;
  edict_policy* policy = NULL;
  edict_error error;
  edict_status status;
  edict_context ctx;
  edict_resolution ceip;
  edict_data_use use;
  char text[1024];
  size_t needed = 0;
  int changed = 0;
  const char* catalog_paths[8];
  int catalog_count = 0;
  edict_catalog_builder* catalog_builder = NULL;
  edict_catalogs* catalogs = NULL; /* NULL: the built-in catalogue alone */
  /* Look string ids up once; keep the numbers. */
  const int32_t kCeip = edict_setting_id("communicator.ceip");
  const int32_t kUsageData = edict_data_class_id("usage_data");
  const int32_t kCorrespondence = edict_purpose_id("correspondence");

  for (i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--defaults") == 0) {
      defaults = 1;
      continue;
    }
    if (v == NULL) return Usage();
    if (strcmp(a, "--state") == 0)
      state = v;
    else if (strcmp(a, "--pinned-trust") == 0)
      pinned = v;
    else if (strcmp(a, "--bundle") == 0)
      bundle = v;
    else if (strcmp(a, "--trust") == 0)
      trust = v;
    else if (strcmp(a, "--payload") == 0)
      payload = v;
    else if (strcmp(a, "--tenant") == 0)
      tenant = v;
    else if (strcmp(a, "--now") == 0)
      now = atoll(v);
    else if (strcmp(a, "--catalog") == 0 && catalog_count < 8)
      catalog_paths[catalog_count++] = v;
    else
      return Usage();
    ++i;
  }

  edict_version(&version);
  printf("libedict=%s header=%s catalog=%u\n", version, EDICT_VERSION_STRING,
         (unsigned)edict_catalog_version());

  /* Product catalogues: load them all into one set (each file is checked as it is added). */
  if (catalog_count > 0) {
    int32_t n;
    status = edict_catalog_builder_new(&catalog_builder);
    for (i = 0; i < catalog_count && status == EDICT_OK; ++i) {
      status = edict_catalog_builder_add_file(catalog_builder, catalog_paths[i], &error);
    }
    if (status == EDICT_OK)
      status = edict_catalog_builder_build(catalog_builder, &catalogs, &error);
    edict_catalog_builder_free(catalog_builder);
    if (status != EDICT_OK) {
      fprintf(stderr, "agent_integration: catalogue: %s: %s\n", edict_strerror(status),
              error.message);
      return 1;
    }
    n = edict_catalogs_product_count(catalogs);
    for (i = 0; i < n; ++i) {
      edict_product_info info;
      edict_product_info_init(&info);
      if (edict_catalogs_product(catalogs, i, &info) == EDICT_OK) {
        printf("product=%s version=%u hash=%016llx settings=%d vendor=\"%s\"\n", info.id,
               (unsigned)info.version, (unsigned long long)info.hash, (int)info.setting_count,
               info.vendor);
      }
    }
  }

  if (state != NULL) {
    status = edict_open_state_with_catalogs(catalogs, state, pinned, &policy, &error);
  } else if (bundle != NULL && trust != NULL) {
    edict_verify_options options;
    edict_verify_options_init(&options);
    options.tenant = tenant;
    options.now = (int64_t)now;
    status =
        edict_open_bundle_files_with_catalogs(catalogs, bundle, trust, &options, &policy, &error);
  } else if (payload != NULL) {
    size_t size = 0;
    unsigned char* bytes = ReadFile(payload, &size);
    if (bytes == NULL) {
      fprintf(stderr, "agent_integration: cannot read %s\n", payload);
      return 1;
    }
    /* copies the bytes */
    status = edict_open_payload_with_catalogs(catalogs, bytes, size, &policy, &error);
    free(bytes);
  } else if (defaults) {
    status = edict_open_defaults_with_catalogs(catalogs, &policy);
    error.message[0] = '\0';
  } else {
    edict_catalogs_free(catalogs);
    return Usage();
  }
  /* The policy holds its own reference to the set: ours can go. Lookups then use
   * edict_policy_catalogs(policy). */
  edict_catalogs_free(catalogs);
  catalogs = NULL;
  if (status != EDICT_OK) {
    fprintf(stderr, "agent_integration: %s: %s\n", edict_strerror(status), error.message);
    return 1;
  }
  printf("serial=%llu origin=%d trust_version=%llu\n", (unsigned long long)edict_serial(policy),
         edict_policy_origin(policy), (unsigned long long)edict_trust_version(policy));

  /* Who is asking: a company identity on a company (domain-joined) PC. */
  edict_context_init(&ctx);
  ctx.identity = EDICT_IDENTITY_MANAGED;
  ctx.domain_joined = EDICT_TRI_YES;
  ctx.plan = EDICT_PLAN_ENTERPRISE;

  /* 1. Is CEIP locked off? */
  status = edict_resolve(policy, kCeip, &ctx, NULL, &ceip);
  if (status != EDICT_OK) {
    fprintf(stderr, "agent_integration: resolve: %s\n", edict_strerror(status));
    edict_close(policy);
    return 1;
  }
  printf("ceip_locked_off=%s\n", ceip.locked && ceip.value.number == 0 ? "yes" : "no");
  printf("ceip value=%s source=%s locked=%d rule=%d\n", ceip.value.number ? "on" : "off",
         edict_source_name(ceip.source), ceip.locked, ceip.rule);
  if (edict_explain_setting(policy, kCeip, &ctx, NULL, EDICT_EXPLAIN_SENTENCE, text, sizeof(text),
                            &needed) == EDICT_OK) {
    printf("  why: %s\n", text);
  }

  /* 2. May usage data be used for correspondence? */
  status = edict_may_use(policy, kUsageData, kCorrespondence, &ctx, &use);
  if (status != EDICT_OK) {
    fprintf(stderr, "agent_integration: may_use: %s\n", edict_strerror(status));
    edict_close(policy);
    return 1;
  }
  printf("usage_data_for_correspondence=%s\n", use.allowed ? "allowed" : "denied");
  printf("usage_data source=%s obligations=0x%x\n", edict_source_name(use.source),
         (unsigned)use.obligations);
  if (edict_explain_data_use(policy, kUsageData, kCorrespondence, &ctx, EDICT_EXPLAIN_SENTENCE,
                             text, sizeof(text), &needed) == EDICT_OK) {
    printf("  why: %s\n", text);
  }

  /* 3. Acme VPN, if its catalogue was given: its settings are ids of the policy's set, its
   * context attributes go through a context builder bound to that set. */
  {
    const edict_catalogs* set = edict_policy_catalogs(policy);
    const int32_t always_on = edict_catalogs_find(set, EDICT_ENTRY_SETTING, "acmevpn.always_on");
    const int32_t keepalive =
        edict_catalogs_find(set, EDICT_ENTRY_SETTING, "acmevpn.keepalive_interval");
    if (always_on >= 0 && keepalive >= 0) {
      edict_context_builder* vpn_ctx = NULL;
      edict_resolution r;
      status = edict_context_builder_new(set, &vpn_ctx);
      if (status == EDICT_OK) status = edict_context_builder_set_base(vpn_ctx, &ctx);
      if (status == EDICT_OK) {
        status = edict_context_builder_set_enum(vpn_ctx, "acmevpn.network_trust", "untrusted");
      }
      if (status == EDICT_OK)
        status = edict_context_builder_set_bool(vpn_ctx, "acmevpn.on_battery", 1);
      if (status == EDICT_OK) status = edict_resolve_with(policy, always_on, vpn_ctx, NULL, &r);
      if (status != EDICT_OK) {
        fprintf(stderr, "agent_integration: acmevpn: %s\n", edict_strerror(status));
        edict_context_builder_free(vpn_ctx);
        edict_close(policy);
        return 1;
      }
      printf("acmevpn_always_on=%s source=%s locked=%d\n", r.value.number ? "yes" : "no",
             edict_source_name(r.source), r.locked);
      if (edict_resolve_with(policy, keepalive, vpn_ctx, NULL, &r) == EDICT_OK) {
        printf("acmevpn_keepalive_seconds=%lld source=%s\n", (long long)r.value.number,
               edict_source_name(r.source));
      }
      if (edict_explain_setting_with(policy, always_on, vpn_ctx, NULL, EDICT_EXPLAIN_SENTENCE, text,
                                     sizeof(text), &needed) == EDICT_OK) {
        printf("  why: %s\n", text);
      }
      edict_context_builder_free(vpn_ctx);
    }
  }

  /* An agent calls this now and then (it is one stat()): re-open when it says so. */
  if (edict_policy_changed(policy, &changed) == EDICT_OK && changed) {
    printf("policy changed since open: re-open\n");
  }
  edict_close(policy);
  return 0;
}
