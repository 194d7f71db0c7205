#pragma once

#include <string>
#include <string_view>

#include "proxima/base/result.h"
#include "proxima/ports/compute_catalog.h"
#include "proxima/ports/executor.h"

namespace proxima {

// The JSON form of the compute rows: the REST API's bodies (docs/api.md,
// "Compute") and the catalog's stored job specs use the same one, so that a
// row reads the same everywhere. Decoders check every field's type and name
// the bad one (InvalidArgument); unknown fields are ignored.

std::string EncodeResource(const ResourceRecord& r);
Result<ResourceRecord> DecodeResource(std::string_view json);

std::string EncodeTemplate(const TemplateRecord& t);
Result<TemplateRecord> DecodeTemplate(std::string_view json);

std::string EncodeQueue(const QueueRecord& q);
Result<QueueRecord> DecodeQueue(std::string_view json);

std::string EncodeJobSpec(const JobSpec& spec);
Result<JobSpec> DecodeJobSpec(std::string_view json);

// A whole job: its spec under "spec", its state beside it.
std::string EncodeJob(const JobRecord& job);
Result<JobRecord> DecodeJob(std::string_view json);

// A JSON array of jobs (or of any of the rows above, through `Encode*`).
Result<std::vector<JobRecord>> DecodeJobs(std::string_view json_array);

// An attempt as the hub hands it to an agent.
std::string EncodeLaunchSpec(const LaunchSpec& spec);
Result<LaunchSpec> DecodeLaunchSpec(std::string_view json);

}  // namespace proxima
