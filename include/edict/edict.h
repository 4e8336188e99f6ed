/* edict C API: the stable ABI endpoint agents and applications link (libedict).
 *
 * One edict_policy handle is one verified, activated policy (or the catalogue defaults).
 * Open it once, ask as many questions as you like, re-open when edict_policy_changed()
 * says the agent has activated a new bundle, close it.
 *
 *   edict_policy* p = NULL;
 *   if (edict_open_state(NULL, NULL, &p, NULL) != EDICT_OK &&
 *       edict_open_defaults(&p) != EDICT_OK) return;
 *   edict_context ctx;
 *   edict_context_init(&ctx);
 *   ctx.identity = EDICT_IDENTITY_MANAGED;
 *   ctx.domain_joined = EDICT_TRI_YES;
 *   edict_resolution r;
 *   edict_resolve(p, edict_setting_id("communicator.ceip"), &ctx, NULL, &r);
 *   if (r.locked && r.number == 0) { ... telemetry is locked off ... }
 *   edict_close(p);
 *
 * Conventions
 *  - Every function that can fail returns an edict_status (EDICT_OK == 0). Opening
 *    functions also fill an optional caller-owned edict_error with a message.
 *  - Opening allocates (the handle owns a copy of the policy bytes and its index).
 *    Queries (resolve, may-use, schedule, explain, serial) never allocate, never block,
 *    never do I/O and write only into caller-owned memory.
 *  - Ids: settings, data classes, purposes and schedules are small integers of the
 *    catalogue this library was built with; look a string id up once with
 *    edict_setting_id() & co. and keep the number. -1 means "not in this catalogue".
 *  - Strings returned as `const char*` are NUL-terminated and static (catalogue) unless
 *    documented otherwise. Answer texts (edict_value.text) point into the handle or the
 *    catalogue: valid until edict_close() of the handle that produced them.
 *  - No C++ exception ever crosses this API.
 *  - Product catalogues (.edcat files, `edictctl catalog build`; docs/catalogs.md) add
 *    settings, data classes, purposes, schedules and context attributes to the built-in
 *    catalogue: load them into an edict_catalogs, open the policy with it
 *    (edict_open_*_with_catalogs), look ids up in it (edict_catalogs_find) and give
 *    attribute values through an edict_context_builder. See "Product catalogues" below.
 *    Built-in ids are the same in every catalogue set.
 *
 * Thread-safety (per function below; summary): an open handle is immutable. Every query
 * function taking `const edict_policy*` may be called from any number of threads at once
 * on the same handle. edict_close() must not run concurrently with any other call on the
 * same handle. Catalogue lookups and edict_version()/edict_strerror() are always safe.
 *
 * This header compiles as C99/C11 and as C++.
 */
#ifndef EDICT_EDICT_H_
#define EDICT_EDICT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(EDICT_BUILDING_LIBRARY)
#define EDICT_API __declspec(dllexport)
#elif defined(EDICT_STATIC)
#define EDICT_API
#else
#define EDICT_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define EDICT_API __attribute__((visibility("default")))
#else
#define EDICT_API
#endif

/* Declares that no C++ exception can leave a function (C++ callers only). */
#if defined(__cplusplus)
#define EDICT_NOEXCEPT noexcept
#else
#define EDICT_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------------------ */

/* The version of this header. edict_version() returns the library's; they differ when an
 * application built against one header runs with another libedict.so.0. */
#define EDICT_VERSION_MAJOR 0
#define EDICT_VERSION_MINOR 2
#define EDICT_VERSION_PATCH 0
#define EDICT_VERSION_STRING "0.2.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */
#define EDICT_VERSION_NUMBER \
  (EDICT_VERSION_MAJOR * 10000 + EDICT_VERSION_MINOR * 100 + EDICT_VERSION_PATCH)

/* The library's version as EDICT_VERSION_NUMBER; `str` (may be NULL) receives a static
 * "MAJOR.MINOR.PATCH" string. Thread-safe. */
EDICT_API int edict_version(const char** str) EDICT_NOEXCEPT;
/* The version of the settings catalogue compiled into the library. Thread-safe. */
EDICT_API uint32_t edict_catalog_version(void) EDICT_NOEXCEPT;

/* ---- Status codes ------------------------------------------------------------------- */

/* Stable and append-only: values are never renumbered or reused. */
typedef enum edict_status {
  EDICT_OK = 0,
  EDICT_ERR_INVALID_ARGUMENT = 1, /* NULL where a pointer is needed, bad enum value, ... */
  EDICT_ERR_UNKNOWN_ID = 2,       /* a setting/class/purpose/schedule id (or context
                                     attribute) not in the catalogue */
  EDICT_ERR_BUFFER_TOO_SMALL = 3, /* output truncated; the size needed is reported */
  EDICT_ERR_NOT_FOUND = 4,        /* file or stored state absent (agent not enrolled) */
  EDICT_ERR_IO = 5,               /* reading a file or the state directory failed */
  EDICT_ERR_PERMISSION = 6,       /* not permitted to read the file or state */
  EDICT_ERR_NO_MEMORY = 7,        /* allocation failed while opening */
  EDICT_ERR_CORRUPT = 8,          /* stored state is torn or tampered with */
  EDICT_ERR_VERIFY = 9,           /* bundle or trust document rejected (see edict_error) */
  EDICT_ERR_ACTIVATION = 10,      /* the payload is not a valid policy for this kernel */
  EDICT_ERR_INTERNAL = 11,        /* a bug: please report it */
  EDICT_ERR_UNSUPPORTED = 12,     /* not available in this build or on this platform */
  EDICT_ERR_CATALOG = 13          /* a product catalogue rejected: not a valid .edcat, or it
                                     conflicts with another one (see edict_error) */
} edict_status;

/* A static, lower-case sentence for `status` ("bundle or trust document rejected"), or
 * "unknown status" for a value outside the enum. Thread-safe. */
EDICT_API const char* edict_strerror(int status) EDICT_NOEXCEPT;

/* Details of a failed open, filled by the opening functions when non-NULL. */
typedef struct edict_error {
  int status;        /* the edict_status the call returned */
  int verify_error;  /* for EDICT_ERR_VERIFY: the transport error number (1..30, see
                        transport/README.md, e.g. 10 = ERR_SIGNATURE); else 0 */
  char message[256]; /* NUL-terminated, e.g. "ERR_SIGNATURE: signature 0 does not verify" */
} edict_error;

/* ---- Catalogue lookups (no handle; static data; thread-safe; never allocate) --------- */

/* Dense ids, or -1 if this library's catalogue does not know the string id. */
EDICT_API int32_t edict_setting_id(const char* id) EDICT_NOEXCEPT;
EDICT_API int32_t edict_data_class_id(const char* id) EDICT_NOEXCEPT;
EDICT_API int32_t edict_purpose_id(const char* id) EDICT_NOEXCEPT;
EDICT_API int32_t edict_schedule_id(const char* id) EDICT_NOEXCEPT;
/* Number of settings / data classes / purposes / schedules (ids are 0..count-1). */
EDICT_API int32_t edict_setting_count(void) EDICT_NOEXCEPT;
EDICT_API int32_t edict_data_class_count(void) EDICT_NOEXCEPT;
EDICT_API int32_t edict_purpose_count(void) EDICT_NOEXCEPT;
EDICT_API int32_t edict_schedule_count(void) EDICT_NOEXCEPT;
/* The string id of a dense id, or NULL if out of range. */
EDICT_API const char* edict_setting_name(int32_t setting) EDICT_NOEXCEPT;
EDICT_API const char* edict_data_class_name(int32_t data_class) EDICT_NOEXCEPT;
EDICT_API const char* edict_purpose_name(int32_t purpose) EDICT_NOEXCEPT;
EDICT_API const char* edict_schedule_name(int32_t schedule) EDICT_NOEXCEPT;

/* Setting value types. */
typedef enum edict_value_type {
  EDICT_TYPE_BOOL = 0,
  EDICT_TYPE_ENUM = 1,
  EDICT_TYPE_FLAGS = 2,
  EDICT_TYPE_INTEGER = 3,
  EDICT_TYPE_DURATION = 4,
  EDICT_TYPE_STRING = 5
} edict_value_type;

/* The type of a setting (an edict_value_type), or -1 if out of range. */
EDICT_API int edict_setting_type(int32_t setting) EDICT_NOEXCEPT;
/* Symbol `index` of an enum or flags setting ("name_only"), or NULL if out of range.
 * An enum value's `number` is such an index; bit i of a flags value is symbol i. */
EDICT_API const char* edict_setting_symbol(int32_t setting, int32_t index) EDICT_NOEXCEPT;
/* Index of `symbol` among an enum or flags setting's values, or -1. */
EDICT_API int32_t edict_setting_symbol_index(int32_t setting, const char* symbol) EDICT_NOEXCEPT;

/* ---- Context: who is asking, on what device ------------------------------------------ */

typedef enum edict_identity {
  EDICT_IDENTITY_UNKNOWN = 0,
  EDICT_IDENTITY_MANAGED = 1,
  EDICT_IDENTITY_UNMANAGED = 2
} edict_identity;
typedef enum edict_tri { EDICT_TRI_UNKNOWN = 0, EDICT_TRI_YES = 1, EDICT_TRI_NO = 2 } edict_tri;
typedef enum edict_plan {
  EDICT_PLAN_UNKNOWN = 0,
  EDICT_PLAN_ENTERPRISE = 1,
  EDICT_PLAN_SMALL_BUSINESS = 2,
  EDICT_PLAN_TRIAL = 4
} edict_plan;
typedef enum edict_role {
  EDICT_ROLE_UNKNOWN = 0,
  EDICT_ROLE_USER = 1,
  EDICT_ROLE_ADMIN = 2,
  EDICT_ROLE_ORGANISER = 4,
  EDICT_ROLE_PARTICIPANT = 8
} edict_role;
/* edict_context.device_state bits. */
#define EDICT_DEVICE_TAMPERED 0x1u
#define EDICT_DEVICE_NOT_GENUINE 0x2u

/* At most this many groups per context (more is EDICT_ERR_INVALID_ARGUMENT). */
#define EDICT_MAX_GROUPS 64

/* Unknown attributes never satisfy a rule condition that constrains them
 * (docs/semantics.md). Always initialise with edict_context_init(): it sets struct_size,
 * which lets later versions of the library add fields without breaking this ABI. The
 * context does not own `groups` or `region`; they are read during the call only. */
typedef struct edict_context {
  uint32_t struct_size;      /* set by edict_context_init */
  int32_t identity;          /* edict_identity */
  int32_t domain_joined;     /* edict_tri */
  int32_t device_managed;    /* edict_tri */
  int32_t plan;              /* edict_plan (one value) */
  int32_t os_generation;     /* 0 = unknown (60 = Vista SP1+, 61 = Windows 7) */
  uint32_t device_state;     /* EDICT_DEVICE_* bits */
  const char* const* groups; /* group_count NUL-terminated names; may be NULL if 0 */
  size_t group_count;
  int32_t role;             /* edict_role (one value) */
  int32_t account_creation; /* non-zero: asked while the account is being created */
  const char* region;       /* e.g. "US"; NULL or "" = unknown */
} edict_context;

/* Sets every field to "unknown" and struct_size to sizeof(edict_context). Thread-safe. */
EDICT_API void edict_context_init(edict_context* ctx) EDICT_NOEXCEPT;

/* ---- Answers ------------------------------------------------------------------------ */

/* A typed value. `number`: bool 0/1; enum symbol index; flags bitmask; integer; duration
 * in seconds. `text`/`text_len`: string values (NUL-terminated; valid while the handle
 * is open); NULL/0 for other types. */
typedef struct edict_value {
  int32_t type; /* edict_value_type */
  int64_t number;
  const char* text;
  size_t text_len;
} edict_value;

/* Where an answer came from. Precedence: fixed > mandatory > user > recommended > default. */
typedef enum edict_source {
  EDICT_SOURCE_DEFAULT = 0,
  EDICT_SOURCE_FIXED = 1,
  EDICT_SOURCE_MANDATORY = 2,
  EDICT_SOURCE_USER = 3,
  EDICT_SOURCE_RECOMMENDED = 4
} edict_source;
/* "default", "fixed", "mandatory", "user", "recommended"; "unknown" otherwise. */
EDICT_API const char* edict_source_name(int source) EDICT_NOEXCEPT;

/* Obligation bits (edict_resolution.obligations, edict_data_use.obligations). */
#define EDICT_OBLIGATION_AGGREGATE_ONLY 0x01u
#define EDICT_OBLIGATION_HASH_FIELD 0x02u
#define EDICT_OBLIGATION_NEVER_COLLECT 0x04u
#define EDICT_OBLIGATION_SHOW_INDICATOR 0x08u
#define EDICT_OBLIGATION_NOTIFY_USER 0x10u
#define EDICT_OBLIGATION_NOTIFY_OTHERS 0x20u
#define EDICT_OBLIGATION_WARN_IRREVERSIBLE 0x40u

/* Resolution note bits (edict_resolution.notes): why something was ignored. */
#define EDICT_NOTE_UNKNOWN_SETTING 0x01u
#define EDICT_NOTE_CHOICE_OVERRIDDEN_BY_LOCK 0x02u
#define EDICT_NOTE_CHOICE_NOT_PERMITTED 0x04u
#define EDICT_NOTE_CHOICE_AFTER_CREATION 0x08u
#define EDICT_NOTE_CHOICE_INVALID 0x10u
#define EDICT_NOTE_ATOMIC_GROUP 0x20u

/* The user's own choice for a setting, if the application has one. */
typedef struct edict_user_choice {
  edict_value value;                /* text need only live for the call */
  int32_t made_at_account_creation; /* non-zero if chosen while creating the account */
} edict_user_choice;

typedef struct edict_resolution {
  int32_t setting;
  edict_value value;
  int32_t source;  /* edict_source */
  int32_t locked;  /* 1: fixed or mandatory, the user cannot change it */
  int32_t rule;    /* index of the deciding rule in the policy's settings, or -1 */
  uint64_t serial; /* serial of the policy; 0 for the catalogue defaults */
  uint32_t obligations;
  uint32_t notes; /* EDICT_NOTE_* bits */
} edict_resolution;

typedef struct edict_data_use {
  int32_t data_class;
  int32_t purpose;
  int32_t allowed; /* 1: may use */
  uint32_t obligations;
  int32_t source;  /* EDICT_SOURCE_DEFAULT, _FIXED or _MANDATORY */
  int32_t rule;    /* admin rule index in the policy's data_use, or -1 */
  int32_t builtin; /* deciding built-in catalogue cell, or -1 */
  uint64_t serial;
} edict_data_use;

typedef struct edict_schedule {
  int32_t schedule;
  int64_t interval_seconds; /* 0: no schedule applies */
  int32_t source;           /* EDICT_SOURCE_DEFAULT or _MANDATORY */
  int32_t rule;
  int32_t builtin;
  uint64_t serial;
} edict_schedule;

/* ---- Opening a policy ---------------------------------------------------------------- */

/* An open, activated, immutable policy. Opaque. */
typedef struct edict_policy edict_policy;

/* Who this endpoint is and when it is, for verifying a bundle (edict_open_bundle*). */
typedef struct edict_verify_options {
  uint32_t struct_size;      /* set by edict_verify_options_init */
  const char* tenant;        /* must equal the bundle's tenant; NULL = "" */
  const char* device_id;     /* NULL = "" (matches only bundles with no device list) */
  const char* const* groups; /* this endpoint's groups */
  size_t group_count;
  int64_t now;          /* seconds since the Unix epoch, UTC; 0 = the system clock */
  uint64_t last_serial; /* anti-rollback: the bundle's serial must be greater */
  uint32_t rollback_epoch;
  int64_t time_floor;
  const void* const* newer_trust; /* trust documents newer than `trust` (rotation) */
  const size_t* newer_trust_sizes;
  size_t newer_trust_count;
} edict_verify_options;

/* Zeroes the options and sets struct_size. Thread-safe. */
EDICT_API void edict_verify_options_init(edict_verify_options* options) EDICT_NOEXCEPT;

/* Opens the policy the local edict-agent enforces: reads the agent's state directory
 * (`state_dir`, NULL = "/var/lib/edict") strictly read-only (no file is created, written,
 * locked or removed) and re-verifies the stored trust chain and active bundle in full
 * (envelope, keys, signatures, threshold, payload, target, catalogue, activation), as the
 * agent does on start. `pinned_trust_path` (NULL = the pinned copy the agent stored in the
 * state directory) names the out-of-band trust document to anchor the check, e.g.
 * "/etc/edict/trust.edt"; without it, authenticity rests on the state directory's
 * permissions.
 *
 * Like the agent, it never yields "no rules": the result is the current active bundle, the
 * previous generation (the current one is damaged) or the catalogue defaults (not enrolled
 * yet, or nothing verifies). It returns EDICT_OK in all three cases; see
 * edict_policy_origin() and edict_policy_problems(). Errors: EDICT_ERR_NOT_FOUND (no such
 * directory), EDICT_ERR_PERMISSION (the caller may not read it: the agent's directory is
 * 0700 root by default), EDICT_ERR_IO, EDICT_ERR_NOT_FOUND / EDICT_ERR_IO for an unreadable
 * `pinned_trust_path`, EDICT_ERR_NO_MEMORY. Thread-safe (each call makes its own handle). */
EDICT_API edict_status edict_open_state(const char* state_dir, const char* pinned_trust_path,
                                        edict_policy** out, edict_error* error) EDICT_NOEXCEPT;

/* Verifies a signed bundle against a trust document (the checks of transport/bundle.h, in
 * order) and activates it. The bytes are copied; the caller may free them on return.
 * `options` may be NULL (empty tenant, system clock, no anti-rollback state).
 * Thread-safe. */
EDICT_API edict_status edict_open_bundle(const void* bundle, size_t bundle_size, const void* trust,
                                         size_t trust_size, const edict_verify_options* options,
                                         edict_policy** out, edict_error* error) EDICT_NOEXCEPT;
/* The same, reading the two files. */
EDICT_API edict_status edict_open_bundle_files(const char* bundle_path, const char* trust_path,
                                               const edict_verify_options* options,
                                               edict_policy** out,
                                               edict_error* error) EDICT_NOEXCEPT;

/* UNVERIFIED: activates a raw compiled payload (`edictctl compile` output) without any
 * signature, freshness or target check. For tests and tools only; never use it for
 * policy that reached the device over a network. Copies the bytes. Thread-safe. */
EDICT_API edict_status edict_open_payload(const void* payload, size_t payload_size,
                                          edict_policy** out, edict_error* error) EDICT_NOEXCEPT;

/* The catalogue defaults, no policy (serial 0). Fails only with EDICT_ERR_NO_MEMORY. */
EDICT_API edict_status edict_open_defaults(edict_policy** out) EDICT_NOEXCEPT;

/* Closes a handle (NULL is ignored). Not thread-safe with other calls on the same handle:
 * no query on it may be running or start afterwards. */
EDICT_API void edict_close(edict_policy* policy) EDICT_NOEXCEPT;

/* ---- Queries (never allocate; thread-safe on one handle) ----------------------------- */

/* The effective value of `setting` for `ctx` (NULL = everything unknown), with the user's
 * choice `choice` (NULL = none). An id outside the catalogue returns
 * EDICT_ERR_UNKNOWN_ID and fills `out` with the note EDICT_NOTE_UNKNOWN_SETTING. */
EDICT_API edict_status edict_resolve(const edict_policy* policy, int32_t setting,
                                     const edict_context* ctx, const edict_user_choice* choice,
                                     edict_resolution* out) EDICT_NOEXCEPT;
/* The same by string id: looked up in the policy's catalogue set (edict_policy_catalogs:
 * the built-in catalogue, plus any product catalogues it was opened with), then
 * edict_resolve. */
EDICT_API edict_status edict_resolve_name(const edict_policy* policy, const char* setting_id,
                                          const edict_context* ctx, const edict_user_choice* choice,
                                          edict_resolution* out) EDICT_NOEXCEPT;

/* May data of `data_class` be used for `purpose`? Unknown ids: EDICT_ERR_UNKNOWN_ID and a
 * denial in `out`. */
EDICT_API edict_status edict_may_use(const edict_policy* policy, int32_t data_class,
                                     int32_t purpose, const edict_context* ctx,
                                     edict_data_use* out) EDICT_NOEXCEPT;

/* The interval of a schedule (e.g. "genuine.validation_interval"). */
EDICT_API edict_status edict_schedule_get(const edict_policy* policy, int32_t schedule,
                                          const edict_context* ctx,
                                          edict_schedule* out) EDICT_NOEXCEPT;

/* Explanation detail. */
typedef enum edict_explain_detail {
  EDICT_EXPLAIN_SENTENCE = 0,       /* one sentence: value, source, lock, rule, why */
  EDICT_EXPLAIN_WITH_CANDIDATES = 1 /* plus every other candidate and why it lost */
} edict_explain_detail;

/* Explains the answer edict_resolve / edict_may_use / edict_schedule_get gives for the
 * same arguments, as readable text in `buf` (always NUL-terminated when `buf_size` > 0).
 * `needed` (may be NULL) receives the full length excluding the NUL. Returns
 * EDICT_ERR_BUFFER_TOO_SMALL when the text was truncated (call again with needed + 1). */
EDICT_API edict_status edict_explain_setting(const edict_policy* policy, int32_t setting,
                                             const edict_context* ctx,
                                             const edict_user_choice* choice, int detail, char* buf,
                                             size_t buf_size, size_t* needed) EDICT_NOEXCEPT;
EDICT_API edict_status edict_explain_data_use(const edict_policy* policy, int32_t data_class,
                                              int32_t purpose, const edict_context* ctx, int detail,
                                              char* buf, size_t buf_size,
                                              size_t* needed) EDICT_NOEXCEPT;
EDICT_API edict_status edict_explain_schedule(const edict_policy* policy, int32_t schedule,
                                              const edict_context* ctx, int detail, char* buf,
                                              size_t buf_size, size_t* needed) EDICT_NOEXCEPT;

/* ---- About the open policy ----------------------------------------------------------- */

/* Serial of the active policy; 0 for the defaults or a NULL handle. Thread-safe. */
EDICT_API uint64_t edict_serial(const edict_policy* policy) EDICT_NOEXCEPT;
/* Version of the trust document the bundle was verified against; 0 for payloads and
 * defaults. Thread-safe. */
EDICT_API uint64_t edict_trust_version(const edict_policy* policy) EDICT_NOEXCEPT;
/* Number of rules activation left out (unknown to this catalogue, etc.). Thread-safe. */
EDICT_API size_t edict_skipped_rules(const edict_policy* policy) EDICT_NOEXCEPT;

/* Where an open policy came from. */
typedef enum edict_origin {
  EDICT_ORIGIN_DEFAULTS = 0,       /* catalogue defaults (edict_open_defaults, or the state
                                      held no usable bundle) */
  EDICT_ORIGIN_STATE_CURRENT = 1,  /* the agent's current active bundle */
  EDICT_ORIGIN_STATE_PREVIOUS = 2, /* the agent's previous bundle: the current one is damaged */
  EDICT_ORIGIN_BUNDLE = 3,         /* edict_open_bundle* */
  EDICT_ORIGIN_PAYLOAD = 4         /* edict_open_payload: UNVERIFIED */
} edict_origin;
EDICT_API int edict_policy_origin(const edict_policy* policy) EDICT_NOEXCEPT;

/* Problems met while opening the agent's state (a damaged generation, a bundle that no
 * longer verifies, ...), one per line, NUL-terminated into `buf`; "" when there were none.
 * snprintf-like: `needed` (may be NULL) gets the full length; EDICT_ERR_BUFFER_TOO_SMALL
 * when truncated. Thread-safe. */
EDICT_API edict_status edict_policy_problems(const edict_policy* policy, char* buf, size_t buf_size,
                                             size_t* needed) EDICT_NOEXCEPT;

/* Cheap "has the agent activated something else since this handle was opened?" check, for
 * handles from edict_open_state: one stat() of the state directory's active-bundle file,
 * comparing device, inode, size and modification time with what was recorded at open (the
 * agent replaces that file by atomic rename on every activation, so each activation gives
 * a new inode). Reads no file content and verifies nothing: on *changed == 1, re-open with
 * edict_open_state (which verifies) and close the old handle. For other handles *changed
 * is always 0. Does not allocate. Thread-safe. */
EDICT_API edict_status edict_policy_changed(const edict_policy* policy,
                                            int* changed) EDICT_NOEXCEPT;

/* ---- Product catalogues (since 0.2; version node EDICT_0.2) -------------------------- */

/* Defined when this header declares the catalogue functions below. */
#define EDICT_HAVE_CATALOGS 1

/* A catalogue set: the built-in catalogue plus product catalogues (.edcat), with one
 * numbering of settings, data classes, purposes, schedules and context attributes. Built-in
 * entries keep their edict_setting_id() & co. numbers; each product's entries follow.
 * Opaque and immutable once built: any number of threads may use one set at once. Every
 * function taking `const edict_catalogs*` accepts NULL for the built-in catalogue alone.
 * A policy opened with a set, and a context builder made from one, keep their own
 * reference: the set may be freed (edict_catalogs_free) while they are in use. */
typedef struct edict_catalogs edict_catalogs;

/* Collects catalogues for one set. Opaque; not thread-safe (one thread at a time). */
typedef struct edict_catalog_builder edict_catalog_builder;

/* A new, empty builder. Fails only with EDICT_ERR_INVALID_ARGUMENT (NULL out) or
 * EDICT_ERR_NO_MEMORY. */
EDICT_API edict_status edict_catalog_builder_new(edict_catalog_builder** out) EDICT_NOEXCEPT;
/* Adds the catalogue in file `path`: a regular file of at most 16 MiB (a FIFO, device or
 * directory is refused with EDICT_ERR_IO before anything is read). The bytes are checked
 * (FlatBuffers verifier, identifier "EDCT", catalogue rules) at once. Errors:
 * EDICT_ERR_NOT_FOUND, EDICT_ERR_PERMISSION, EDICT_ERR_IO, EDICT_ERR_CATALOG (not a valid
 * catalogue, or larger than the cap), EDICT_ERR_NO_MEMORY; the builder is unchanged then. */
EDICT_API edict_status edict_catalog_builder_add_file(edict_catalog_builder* builder,
                                                      const char* path,
                                                      edict_error* error) EDICT_NOEXCEPT;
/* Adds a catalogue from memory (copied; the caller may free it on return). `origin` (may
 * be NULL) names it in messages and in edict_product_info.origin. Errors as
 * edict_catalog_builder_add_file. */
EDICT_API edict_status edict_catalog_builder_add_memory(edict_catalog_builder* builder,
                                                        const void* bytes, size_t size,
                                                        const char* origin,
                                                        edict_error* error) EDICT_NOEXCEPT;
/* Builds the set from the built-in catalogue and every catalogue added (none: the built-in
 * catalogue alone). The builder stays usable. Errors: EDICT_ERR_CATALOG (two catalogues of
 * one product, colliding ids, ...; the message names the catalogue), EDICT_ERR_NO_MEMORY. */
EDICT_API edict_status edict_catalog_builder_build(const edict_catalog_builder* builder,
                                                   edict_catalogs** out,
                                                   edict_error* error) EDICT_NOEXCEPT;
/* Frees a builder (NULL is ignored). */
EDICT_API void edict_catalog_builder_free(edict_catalog_builder* builder) EDICT_NOEXCEPT;

/* Shorthands for a set of one product catalogue: new builder, add, build, free. */
EDICT_API edict_status edict_catalogs_open_file(const char* path, edict_catalogs** out,
                                                edict_error* error) EDICT_NOEXCEPT;
EDICT_API edict_status edict_catalogs_open_memory(const void* bytes, size_t size,
                                                  edict_catalogs** out,
                                                  edict_error* error) EDICT_NOEXCEPT;
/* Releases the caller's reference (NULL is ignored); policies and context builders made
 * with the set keep theirs. Must not race with other calls using this pointer. */
EDICT_API void edict_catalogs_free(edict_catalogs* catalogs) EDICT_NOEXCEPT;

/* Kinds of catalogue entry, for the lookups below. */
typedef enum edict_entry_kind {
  EDICT_ENTRY_SETTING = 0,
  EDICT_ENTRY_DATA_CLASS = 1,
  EDICT_ENTRY_PURPOSE = 2,
  EDICT_ENTRY_SCHEDULE = 3,
  EDICT_ENTRY_ATTRIBUTE = 4 /* context attribute ("acmevpn.network_trust") */
} edict_entry_kind;

/* Lookups (thread-safe; never allocate). The id of `name` in the set, or -1 (unknown name,
 * NULL, bad kind). Setting ids go to edict_resolve() & co. of a policy opened with this set. */
EDICT_API int32_t edict_catalogs_find(const edict_catalogs* catalogs, int kind,
                                      const char* name) EDICT_NOEXCEPT;
/* Number of entries of `kind` (ids are 0..count-1), or -1 for a bad kind. */
EDICT_API int32_t edict_catalogs_count(const edict_catalogs* catalogs, int kind) EDICT_NOEXCEPT;
/* The name of an id, or NULL if out of range. Valid while the set (or a policy or builder
 * holding it) lives. */
EDICT_API const char* edict_catalogs_name(const edict_catalogs* catalogs, int kind,
                                          int32_t id) EDICT_NOEXCEPT;
/* edict_setting_type() & co. for any setting of the set. */
EDICT_API int edict_catalogs_setting_type(const edict_catalogs* catalogs,
                                          int32_t setting) EDICT_NOEXCEPT;
EDICT_API const char* edict_catalogs_setting_symbol(const edict_catalogs* catalogs, int32_t setting,
                                                    int32_t index) EDICT_NOEXCEPT;
EDICT_API int32_t edict_catalogs_setting_symbol_index(const edict_catalogs* catalogs,
                                                      int32_t setting,
                                                      const char* symbol) EDICT_NOEXCEPT;

/* Context attribute types. */
typedef enum edict_attribute_type {
  EDICT_ATTRIBUTE_BOOL = 0,
  EDICT_ATTRIBUTE_ENUM = 1,
  EDICT_ATTRIBUTE_INTEGER = 2,   /* an integer within [min, max] */
  EDICT_ATTRIBUTE_STRING_SET = 3 /* a set of strings */
} edict_attribute_type;
/* The type of an attribute (an edict_attribute_type), or -1 if out of range. */
EDICT_API int edict_catalogs_attribute_type(const edict_catalogs* catalogs,
                                            int32_t attribute) EDICT_NOEXCEPT;
/* Value `index` of an enum attribute, or NULL if out of range. */
EDICT_API const char* edict_catalogs_attribute_value(const edict_catalogs* catalogs,
                                                     int32_t attribute,
                                                     int32_t index) EDICT_NOEXCEPT;
/* The bounds of an integer attribute. EDICT_ERR_UNKNOWN_ID out of range,
 * EDICT_ERR_INVALID_ARGUMENT for another type or a NULL pointer. */
EDICT_API edict_status edict_catalogs_attribute_range(const edict_catalogs* catalogs,
                                                      int32_t attribute, int64_t* min,
                                                      int64_t* max) EDICT_NOEXCEPT;

/* One product catalogue of a set. A sized output struct: set struct_size (sizeof, or
 * edict_product_info_init) before the call; the library fills only the fields that fit,
 * so a later library adding fields keeps working with this header. Strings are
 * NUL-terminated ("" when absent) and valid while the set lives. */
typedef struct edict_product_info {
  uint32_t struct_size;
  const char* id; /* e.g. "acmevpn" */
  const char* vendor;
  const char* display_name;
  uint32_t version;      /* the catalogue's version */
  uint64_t hash;         /* FNV-1a 64 of the .edcat bytes (as `edictctl catalog inspect`) */
  const char* origin;    /* the path it was loaded from, or the origin given; may be "" */
  int32_t first_setting; /* its settings are ids first_setting .. + setting_count - 1 */
  int32_t setting_count;
} edict_product_info;

/* Zeroes `info` and sets struct_size. Thread-safe. */
EDICT_API void edict_product_info_init(edict_product_info* info) EDICT_NOEXCEPT;
/* Number of product catalogues in the set (0 for NULL: the built-in catalogue is not one). */
EDICT_API int32_t edict_catalogs_product_count(const edict_catalogs* catalogs) EDICT_NOEXCEPT;
/* Product `index` (0..count-1, in id order). EDICT_ERR_UNKNOWN_ID out of range;
 * EDICT_ERR_INVALID_ARGUMENT for NULL `info` or struct_size smaller than the first
 * release's edict_product_info. Thread-safe; never allocates. */
EDICT_API edict_status edict_catalogs_product(const edict_catalogs* catalogs, int32_t index,
                                              edict_product_info* info) EDICT_NOEXCEPT;

/* Opening a policy against a catalogue set (NULL: the built-in catalogue, exactly as the
 * functions without the suffix): names in the policy are looked up in the set, and the
 * policy's queries take the set's ids. The handle keeps a reference to the set. Arguments,
 * errors and thread-safety otherwise as the functions without the suffix. */
EDICT_API edict_status edict_open_defaults_with_catalogs(const edict_catalogs* catalogs,
                                                         edict_policy** out) EDICT_NOEXCEPT;
EDICT_API edict_status edict_open_payload_with_catalogs(const edict_catalogs* catalogs,
                                                        const void* payload, size_t payload_size,
                                                        edict_policy** out,
                                                        edict_error* error) EDICT_NOEXCEPT;
EDICT_API edict_status edict_open_bundle_with_catalogs(const edict_catalogs* catalogs,
                                                       const void* bundle, size_t bundle_size,
                                                       const void* trust, size_t trust_size,
                                                       const edict_verify_options* options,
                                                       edict_policy** out,
                                                       edict_error* error) EDICT_NOEXCEPT;
EDICT_API edict_status edict_open_bundle_files_with_catalogs(
    const edict_catalogs* catalogs, const char* bundle_path, const char* trust_path,
    const edict_verify_options* options, edict_policy** out, edict_error* error) EDICT_NOEXCEPT;
EDICT_API edict_status edict_open_state_with_catalogs(const edict_catalogs* catalogs,
                                                      const char* state_dir,
                                                      const char* pinned_trust_path,
                                                      edict_policy** out,
                                                      edict_error* error) EDICT_NOEXCEPT;

/* The catalogue set of an open policy (the built-in set for the functions without the
 * suffix). Borrowed: valid until edict_close() of the policy; never free it. Never NULL for
 * a non-NULL policy. Thread-safe. */
EDICT_API const edict_catalogs* edict_policy_catalogs(const edict_policy* policy) EDICT_NOEXCEPT;

/* A query context with catalogue attributes: the built-in fields of edict_context plus
 * values of the set's context attributes. Opaque; owns copies of every string it is given.
 * Setters are not thread-safe; once set up, any number of threads may query with one
 * builder at once (it is only read), but not while a setter runs. Queries with it (the
 * `_with` functions) never allocate. It can only be used with policies opened with the same
 * set (edict_policy_catalogs); another policy's queries return EDICT_ERR_INVALID_ARGUMENT. */
typedef struct edict_context_builder edict_context_builder;

/* A builder with everything unknown, for `catalogs` (NULL: the built-in set). Keeps a
 * reference to the set. Errors: EDICT_ERR_INVALID_ARGUMENT (NULL out), EDICT_ERR_NO_MEMORY. */
EDICT_API edict_status edict_context_builder_new(const edict_catalogs* catalogs,
                                                 edict_context_builder** out) EDICT_NOEXCEPT;
EDICT_API void edict_context_builder_free(edict_context_builder* builder) EDICT_NOEXCEPT;
/* Sets the built-in fields from `ctx` (NULL: all unknown), copying groups and region. The
 * attributes are kept. EDICT_ERR_INVALID_ARGUMENT as the queries would reject `ctx`. */
EDICT_API edict_status edict_context_builder_set_base(edict_context_builder* builder,
                                                      const edict_context* ctx) EDICT_NOEXCEPT;
/* Sets attribute `name` (replacing an earlier value). Errors: EDICT_ERR_UNKNOWN_ID (the set
 * has no such attribute), EDICT_ERR_INVALID_ARGUMENT (NULL name, an attribute of another
 * type, an enum value the attribute does not list, an integer outside its range, a NULL
 * string); the builder is unchanged then. `value` of a bool: 0 = false, else true. */
EDICT_API edict_status edict_context_builder_set_bool(edict_context_builder* builder,
                                                      const char* name, int value) EDICT_NOEXCEPT;
EDICT_API edict_status edict_context_builder_set_enum(edict_context_builder* builder,
                                                      const char* name,
                                                      const char* value) EDICT_NOEXCEPT;
EDICT_API edict_status edict_context_builder_set_integer(edict_context_builder* builder,
                                                         const char* name,
                                                         int64_t value) EDICT_NOEXCEPT;
EDICT_API edict_status edict_context_builder_set_strings(edict_context_builder* builder,
                                                         const char* name,
                                                         const char* const* values,
                                                         size_t count) EDICT_NOEXCEPT;
/* Makes attribute `name` unknown again. EDICT_ERR_UNKNOWN_ID for a name the set lacks. */
EDICT_API edict_status edict_context_builder_unset(edict_context_builder* builder,
                                                   const char* name) EDICT_NOEXCEPT;

/* The queries with a context builder (NULL: everything unknown) instead of an
 * edict_context. Otherwise exactly edict_resolve() & co.: no allocation, thread-safe. */
EDICT_API edict_status edict_resolve_with(const edict_policy* policy, int32_t setting,
                                          const edict_context_builder* ctx,
                                          const edict_user_choice* choice,
                                          edict_resolution* out) EDICT_NOEXCEPT;
EDICT_API edict_status edict_may_use_with(const edict_policy* policy, int32_t data_class,
                                          int32_t purpose, const edict_context_builder* ctx,
                                          edict_data_use* out) EDICT_NOEXCEPT;
EDICT_API edict_status edict_schedule_get_with(const edict_policy* policy, int32_t schedule,
                                               const edict_context_builder* ctx,
                                               edict_schedule* out) EDICT_NOEXCEPT;
EDICT_API edict_status edict_explain_setting_with(const edict_policy* policy, int32_t setting,
                                                  const edict_context_builder* ctx,
                                                  const edict_user_choice* choice, int detail,
                                                  char* buf, size_t buf_size,
                                                  size_t* needed) EDICT_NOEXCEPT;
EDICT_API edict_status edict_explain_data_use_with(const edict_policy* policy, int32_t data_class,
                                                   int32_t purpose,
                                                   const edict_context_builder* ctx, int detail,
                                                   char* buf, size_t buf_size,
                                                   size_t* needed) EDICT_NOEXCEPT;
EDICT_API edict_status edict_explain_schedule_with(const edict_policy* policy, int32_t schedule,
                                                   const edict_context_builder* ctx, int detail,
                                                   char* buf, size_t buf_size,
                                                   size_t* needed) EDICT_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDICT_EDICT_H_ */
