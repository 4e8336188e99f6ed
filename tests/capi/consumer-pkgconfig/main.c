/* pkg-config consumer: links libedict found by `pkg-config edict`, asks one question. */
#include <edict/edict.h>
#include <stdio.h>

int main(void) {
  edict_policy* policy = NULL;
  edict_resolution r;
  const char* version = NULL;
  if (edict_open_defaults(&policy) != EDICT_OK) return 1;
  if (edict_resolve_name(policy, "communicator.ceip", NULL, NULL, &r) != EDICT_OK) return 1;
  edict_version(&version);
  printf("pkgconfig_consumer: libedict %s, communicator.ceip source=%s\n", version,
         edict_source_name(r.source));
  edict_close(policy);
  return 0;
}
