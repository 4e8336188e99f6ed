/* The C API from C: edict.h compiles as C99 and C11 (two targets build this file) and the
 * basic calls work through libedict.so. Exit status = number of failed checks.
 *
 *   capi_c_test [ACMEVPN.EDCAT]
 *
 * With a product catalogue (examples/catalogs/acmevpn.json built by `edictctl catalog
 * build`), also the catalogue functions: load, products, lookups, a context builder. */
#include <stdio.h>
#include <string.h>

#include "edict/edict.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static void CatalogChecks(const char* path) {
  edict_catalogs* catalogs = NULL;
  edict_policy* policy = NULL;
  edict_context_builder* builder = NULL;
  edict_product_info info;
  edict_resolution r;
  edict_error error;
  const char* regions[1];
  int32_t always_on;
  int32_t trust;

  CHECK(edict_catalogs_open_file(path, &catalogs, &error) == EDICT_OK);
  if (catalogs == NULL) {
    fprintf(stderr, "%s: %s\n", path, error.message);
    return;
  }
  CHECK(edict_catalogs_product_count(catalogs) == 1);
  edict_product_info_init(&info);
  CHECK(info.struct_size == sizeof(edict_product_info));
  CHECK(edict_catalogs_product(catalogs, 0, &info) == EDICT_OK);
  CHECK(strcmp(info.id, "acmevpn") == 0 && strcmp(info.origin, path) == 0);
  CHECK(info.first_setting == edict_setting_count() && info.setting_count > 0);
  CHECK(edict_catalogs_find(catalogs, EDICT_ENTRY_SETTING, "communicator.ceip") ==
        edict_setting_id("communicator.ceip"));
  always_on = edict_catalogs_find(catalogs, EDICT_ENTRY_SETTING, "acmevpn.always_on");
  CHECK(always_on >= info.first_setting);
  trust = edict_catalogs_find(catalogs, EDICT_ENTRY_ATTRIBUTE, "acmevpn.network_trust");
  CHECK(edict_catalogs_attribute_type(catalogs, trust) == EDICT_ATTRIBUTE_ENUM);

  CHECK(edict_open_defaults_with_catalogs(catalogs, &policy) == EDICT_OK);
  CHECK(edict_context_builder_new(catalogs, &builder) == EDICT_OK);
  edict_catalogs_free(catalogs); /* the policy and the builder keep their references */
  CHECK(edict_context_builder_set_enum(builder, "acmevpn.network_trust", "captive") == EDICT_OK);
  CHECK(edict_context_builder_set_enum(builder, "acmevpn.network_trust", "hostile") ==
        EDICT_ERR_INVALID_ARGUMENT);
  CHECK(edict_context_builder_set_bool(builder, "acmevpn.tunnel_count", 1) ==
        EDICT_ERR_INVALID_ARGUMENT);
  CHECK(edict_context_builder_set_integer(builder, "acmevpn.no_such", 1) == EDICT_ERR_UNKNOWN_ID);
  regions[0] = "EU";
  CHECK(edict_context_builder_set_strings(builder, "acmevpn.gateway_regions", regions, 1) ==
        EDICT_OK);
  CHECK(edict_resolve_with(policy, always_on, builder, NULL, &r) == EDICT_OK);
  CHECK(r.setting == always_on && r.source == EDICT_SOURCE_DEFAULT && r.serial == 0);
  CHECK(edict_resolve_name(policy, "acmevpn.always_on", NULL, NULL, &r) == EDICT_OK);
  edict_context_builder_free(builder);
  edict_close(policy);
}

int main(int argc, char** argv) {
  const char* version = NULL;
  edict_policy* policy = NULL;
  edict_context ctx;
  edict_resolution r;
  edict_data_use d;
  edict_schedule s;
  edict_error error;
  char text[512];
  size_t needed = 0;
  int changed = -1;
  const char* groups[2];
  const unsigned char junk[4] = {1, 2, 3, 4};
  const int32_t ceip = edict_setting_id("communicator.ceip");

  CHECK(edict_version(&version) == EDICT_VERSION_NUMBER);
  CHECK(version != NULL && strcmp(version, EDICT_VERSION_STRING) == 0);
  CHECK(ceip >= 0);
  CHECK(strcmp(edict_setting_name(ceip), "communicator.ceip") == 0);
  CHECK(edict_setting_type(ceip) == EDICT_TYPE_BOOL);
  CHECK(strcmp(edict_strerror(EDICT_ERR_VERIFY), "bundle or trust document rejected") == 0);

  CHECK(edict_open_defaults(&policy) == EDICT_OK);
  CHECK(policy != NULL);
  CHECK(edict_serial(policy) == 0);

  edict_context_init(&ctx);
  CHECK(ctx.struct_size == sizeof(edict_context));
  groups[0] = "finance";
  groups[1] = "helpdesk";
  ctx.identity = EDICT_IDENTITY_MANAGED;
  ctx.domain_joined = EDICT_TRI_YES;
  ctx.groups = groups;
  ctx.group_count = 2;
  ctx.region = "US";

  CHECK(edict_resolve(policy, ceip, &ctx, NULL, &r) == EDICT_OK);
  CHECK(r.source == EDICT_SOURCE_DEFAULT && r.locked == 0 && r.setting == ceip);
  CHECK(edict_resolve_name(policy, "no.such.setting", &ctx, NULL, &r) == EDICT_ERR_UNKNOWN_ID);
  CHECK((r.notes & EDICT_NOTE_UNKNOWN_SETTING) != 0);
  CHECK(edict_may_use(policy, edict_data_class_id("usage_data"), edict_purpose_id("correspondence"),
                      &ctx, &d) == EDICT_OK);
  CHECK(edict_schedule_get(policy, edict_schedule_id("genuine.validation_interval"), &ctx, &s) ==
        EDICT_OK);
  CHECK(edict_explain_setting(policy, ceip, &ctx, NULL, EDICT_EXPLAIN_SENTENCE, text, sizeof(text),
                              &needed) == EDICT_OK);
  CHECK(needed == strlen(text) && needed > 0);
  CHECK(edict_policy_changed(policy, &changed) == EDICT_OK && changed == 0);
  edict_close(policy);

  policy = (edict_policy*)&failures; /* must be reset on failure */
  CHECK(edict_open_payload(junk, sizeof(junk), &policy, &error) == EDICT_ERR_ACTIVATION);
  CHECK(policy == NULL);
  CHECK(error.status == EDICT_ERR_ACTIVATION && error.message[0] != '\0');

  if (argc > 1) CatalogChecks(argv[1]);

  if (failures == 0) printf("capi_c_test (C %ld): all checks passed\n", (long)__STDC_VERSION__);
  return failures;
}
