// Fuzz entry for the pull client's parsers, without any network: the input is treated as
// a raw HTTP response (head, then a chunked, Content-Length or close-delimited body under
// a small cap), and whatever body comes out is parsed as a pull index; the whole input is
// also parsed as an index and as a per-source status record. Never crashes, never reads
// out of bounds, never allocates more than a few times the input. For libFuzzer:
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
//     return edict::transport::pull::FuzzHttpResponse(d, n);
//   }
#ifndef EDICT_TRANSPORT_PULL_FUZZ_ENTRY_H_
#define EDICT_TRANSPORT_PULL_FUZZ_ENTRY_H_

#include <cstddef>
#include <cstdint>

namespace edict::transport::pull {

int FuzzHttpResponse(const uint8_t* data, size_t size);

}  // namespace edict::transport::pull

#endif  // EDICT_TRANSPORT_PULL_FUZZ_ENTRY_H_
