// libFuzzer target: the hub's request parsers (server/requests.h), which
// read untrusted JSON bodies and query parameters, and the compute codec
// (ports/compute_codec.h) that agents and the catalog read. The first byte picks the
// parser; the rest is the input. Any crash, leak, or undefined behaviour is
// a failure; every input must yield a value or an InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "proxima/ports/compute_codec.h"
#include "proxima/server/requests.h"

namespace {

void MustBeCleanError(const proxima::Status& s) {
  if (!s.ok() && s.code() != proxima::StatusCode::kInvalidArgument) std::abort();
  if (!s.ok() && s.message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using namespace proxima::api;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 20) {
    case 0:
      MustBeCleanError(ParseCreateDataset(in).status());
      break;
    case 1:
      MustBeCleanError(ParseRefUpdate(in).status());
      break;
    case 2:
      MustBeCleanError(ParseGrant(in).status());
      break;
    case 3:
      MustBeCleanError(ParseCreateUser(in).status());
      break;
    case 4:
      MustBeCleanError(ParseCreateTeam(in).status());
      break;
    case 5:
      MustBeCleanError(ParseMember(in).status());
      break;
    case 6:
      MustBeCleanError(ParseCreateToken(in).status());
      break;
    case 7:
      MustBeCleanError(ParseObjectUrls(in).status());
      break;
    case 8: {
      size_t split = in.find('&');
      std::multimap<std::string, std::string> params = {
          {"limit", std::string(in.substr(0, split))},
          {"after", split == std::string_view::npos ? "" : std::string(in.substr(split + 1))}};
      MustBeCleanError(ParsePage(params, 1000).status());
      break;
    }
    case 9:
      MustBeCleanError(ParseVolume(in).status());
      break;
    case 10:
      MustBeCleanError(ParseCacheRow(in).status());
      break;
    case 11:
      MustBeCleanError(ParseLease(in).status());
      MustBeCleanError(ParseQuota(in).status());
      break;
    case 13:
      MustBeCleanError(ParseResource(in).status());
      break;
    case 14:
      MustBeCleanError(ParseTemplate(in).status());
      break;
    case 15:
      MustBeCleanError(ParseQueue(in).status());
      break;
    case 16:
      MustBeCleanError(ParseJobSpec(in).status());
      break;
    case 17:
      MustBeCleanError(proxima::DecodeJob(in).status());
      break;
    case 18:
      MustBeCleanError(proxima::DecodeLaunchSpec(in).status());
      break;
    case 19:
      MustBeCleanError(ParseObjectBatch(in, 100).status());
      break;
    default:
      MustBeCleanError(ValidateObjectKey(in));
      MustBeCleanError(ValidateSubject(in));
      MustBeCleanError(ValidateRefName(in));
      break;
  }
  return 0;
}
