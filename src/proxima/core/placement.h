#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/compute_catalog.h"

namespace proxima {

// Where a job goes (docs/scheduler.md, "Placement"). Pure: everything it
// knows is given to the constructor, so a pass over thousands of queued
// jobs costs no catalog call per job.
//
// The rule, for one job:
// 1. Candidates: the templates of its queue (or the one template it names).
//    The first is eligible at once, the others once the job has waited the
//    queue's burst delay.
// 2. Among eligible candidates whose resource has the template's shape free,
//    prefer the one whose resource's volumes hold the most bytes of the
//    job's datasets in ready caches, then in caches being filled, then the
//    earlier one in the queue.
// 3. None fits: the job waits, and the decision says for what.
//
// Not thread-safe; one per scheduling pass.
class PlacementView {
 public:
  // `used`: what active jobs hold on each resource, by resource name.
  PlacementView(std::vector<ResourceRecord> resources, std::vector<TemplateRecord> templates,
                std::vector<QueueRecord> queues, const std::vector<VolumeRecord>& volumes,
                const std::vector<CacheRecord>& caches,
                const std::unordered_map<std::string, Shape>& used);

  struct Decision {
    bool placed = false;
    std::string template_name;  // when placed
    std::string resource;
    std::string why;  // a sentence for `proxima job show`
    // InvalidArgument-like: the job names a queue or template that does not
    // exist, or one no resource could ever hold; it fails instead of waiting.
    bool impossible = false;
  };

  // Decides for `job`, at `now_unix_ns`; a placed job's shape is reserved on
  // its resource for the rest of the pass. `explain_wait`: build the reason
  // of a job that waits (callers skip it when the job already says so).
  Decision Place(const JobRecord& job, int64_t now_unix_ns, bool explain_wait = true);

  // The free shape of a resource now (after this pass's reservations).
  Shape Free(const std::string& resource) const;
  // True when no template of any resource could fit anything more: the
  // rest of the pass can stop.
  bool Exhausted() const;

 private:
  struct Res {
    ResourceRecord record;
    Shape free;
  };
  struct Tmpl {
    TemplateRecord record;
    int res = -1;  // index into res_, -1: unknown resource
  };
  struct Presence {
    uint64_t ready = 0;
    uint64_t filling = 0;
  };
  int TemplateIndex(const std::string& name) const;
  Presence DataOn(int res, const JobRecord& job) const;

  std::vector<Res> res_;
  std::vector<Tmpl> tmpl_;
  std::unordered_map<std::string, int> res_index_;
  std::unordered_map<std::string, int> tmpl_index_;
  std::unordered_map<std::string, QueueRecord> queues_;
  // "<resource>\n<dataset>\n<commit hex>" -> bytes, for ready and filling caches.
  std::unordered_map<std::string, Presence> data_;
  int templates_that_fit_ = 0;  // templates whose shape fits their resource's free shape
};

// "8 CPUs, 32 GiB, 1 GPU"
std::string DescribeShape(const Shape& shape);

}  // namespace proxima
