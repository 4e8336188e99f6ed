/* An endpoint agent's use of libedict, in C: open the policy the edict-agent enforces (or a
 * signed bundle), ask the seed questions, explain the answers, and notice re-activation.
 *
 *   agent_integration --state DIR [--pinned-trust FILE]
 *   agent_integration --bundle FILE --trust FILE [--tenant T] [--now UNIX_SECONDS]
 *   agent_integration --payload FILE        (UNVERIFIED compiled payload; tests only)
 *   agent_integration --defaults
 *
 * Questions, for a managed identity on a domain-joined PC:
 *   1. Is CEIP (usage telemetry, communicator.ceip) locked off?
 *   2. May usage data be used for correspondence?
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
          "       agent_integration --payload FILE | --defaults\n");
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
    else
      return Usage();
    ++i;
  }

  edict_version(&version);
  printf("libedict=%s header=%s catalog=%u\n", version, EDICT_VERSION_STRING,
         (unsigned)edict_catalog_version());

  if (state != NULL) {
    status = edict_open_state(state, pinned, &policy, &error);
  } else if (bundle != NULL && trust != NULL) {
    edict_verify_options options;
    edict_verify_options_init(&options);
    options.tenant = tenant;
    options.now = (int64_t)now;
    status = edict_open_bundle_files(bundle, trust, &options, &policy, &error);
  } else if (payload != NULL) {
    size_t size = 0;
    unsigned char* bytes = ReadFile(payload, &size);
    if (bytes == NULL) {
      fprintf(stderr, "agent_integration: cannot read %s\n", payload);
      return 1;
    }
    status = edict_open_payload(bytes, size, &policy, &error); /* copies the bytes */
    free(bytes);
  } else if (defaults) {
    status = edict_open_defaults(&policy);
    error.message[0] = '\0';
  } else {
    return Usage();
  }
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

  /* An agent calls this now and then (it is one stat()): re-open when it says so. */
  if (edict_policy_changed(policy, &changed) == EDICT_OK && changed) {
    printf("policy changed since open: re-open\n");
  }
  edict_close(policy);
  return 0;
}
