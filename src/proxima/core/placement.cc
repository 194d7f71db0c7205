#include "proxima/core/placement.h"

#include <cinttypes>
#include <cstdio>

#include "proxima/base/units.h"

namespace proxima {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string DataKey(std::string_view dataset, const ObjectId& commit) {
  std::string key(dataset);
  key += '\n';
  key += commit.view();
  return key;
}

Shape Minus(Shape a, const Shape& b) {
  a.millicpus -= b.millicpus;
  a.memory_bytes = a.memory_bytes > b.memory_bytes ? a.memory_bytes - b.memory_bytes : 0;
  a.gpus -= b.gpus;
  return a;
}

}  // namespace

std::string DescribeShape(const Shape& s) {
  std::string out;
  char buf[64];
  if (s.millicpus % 1000 == 0) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 " CPU%s", s.millicpus / 1000,
                  s.millicpus == 1000 ? "" : "s");
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f CPUs", static_cast<double>(s.millicpus) / 1000);
  }
  out = buf;
  if (s.memory_bytes > 0) out += ", " + HumanBytes(s.memory_bytes);
  if (s.gpus > 0) out += ", " + std::to_string(s.gpus) + (s.gpus == 1 ? " GPU" : " GPUs");
  return out;
}

PlacementView::PlacementView(std::vector<ResourceRecord> resources,
                             std::vector<TemplateRecord> templates, std::vector<QueueRecord> queues,
                             const std::vector<VolumeRecord>& volumes,
                             const std::vector<CacheRecord>& caches,
                             const std::unordered_map<std::string, Shape>& used) {
  for (ResourceRecord& r : resources) {
    Shape free = r.capacity;
    auto it = used.find(r.name);
    if (it != used.end()) free = Minus(free, it->second);
    res_index_[r.name] = static_cast<int>(res_.size());
    res_.push_back({std::move(r), free});
  }
  for (TemplateRecord& t : templates) {
    auto it = res_index_.find(t.resource);
    int res = it == res_index_.end() ? -1 : it->second;
    tmpl_index_[t.name] = static_cast<int>(tmpl_.size());
    if (res >= 0 && t.shape.FitsIn(res_[res].free)) ++templates_that_fit_;
    tmpl_.push_back({std::move(t), res});
  }
  for (QueueRecord& q : queues) queues_.emplace(q.name, std::move(q));
  std::unordered_map<std::string, std::string> resource_of_volume;
  for (const VolumeRecord& v : volumes) resource_of_volume[v.name] = v.resource;
  for (const CacheRecord& c : caches) {
    auto it = resource_of_volume.find(c.volume);
    if (it == resource_of_volume.end() || it->second.empty()) continue;
    std::string key = it->second + '\n' + DataKey(c.dataset, c.commit);
    Presence& p = data_[key];
    if (c.state == CacheState::kReady) {
      p.ready = std::max(p.ready, c.bytes);
    } else if (c.state == CacheState::kFilling || c.state == CacheState::kQueued) {
      p.filling = std::max(p.filling, c.done_bytes);
    }
  }
}

int PlacementView::TemplateIndex(const std::string& name) const {
  auto it = tmpl_index_.find(name);
  return it == tmpl_index_.end() ? -1 : it->second;
}

PlacementView::Presence PlacementView::DataOn(int res, const JobRecord& job) const {
  Presence total;
  if (data_.empty()) return total;
  for (const JobDataset& d : job.spec.datasets) {
    auto it = data_.find(res_[res].record.name + '\n' + DataKey(d.name, d.commit));
    if (it == data_.end()) continue;
    total.ready += it->second.ready;
    total.filling += it->second.filling;
  }
  return total;
}

Shape PlacementView::Free(const std::string& resource) const {
  auto it = res_index_.find(resource);
  return it == res_index_.end() ? Shape{} : res_[it->second].free;
}

bool PlacementView::Exhausted() const { return templates_that_fit_ == 0; }

PlacementView::Decision PlacementView::Place(const JobRecord& job, int64_t now_unix_ns,
                                             bool explain_wait) {
  Decision d;
  std::vector<std::string> single;
  const std::vector<std::string>* names = nullptr;
  int64_t burst_after = 0;
  std::string from;
  if (!job.spec.template_name.empty()) {
    single.push_back(job.spec.template_name);
    names = &single;
    from = "template " + Quote(job.spec.template_name);
  } else {
    auto q = queues_.find(job.spec.queue);
    if (q == queues_.end()) {
      d.impossible = true;
      d.why = "queue " + Quote(job.spec.queue) + " does not exist (see 'proxima queue ls')";
      return d;
    }
    names = &q->second.templates;
    burst_after = q->second.burst_after_ns;
    from = "queue " + Quote(job.spec.queue);
  }
  int64_t waited = now_unix_ns - job.submitted_unix_ns;

  int best = -1;
  size_t best_pos = 0;
  Presence best_data;
  bool any_possible = false;
  for (size_t pos = 0; pos < names->size(); ++pos) {
    int t = TemplateIndex((*names)[pos]);
    if (t < 0 || tmpl_[t].res < 0) continue;
    const Tmpl& tm = tmpl_[t];
    const Res& r = res_[tm.res];
    // An agent pool's capacity is that of the agents connected now; more
    // may come (an elastic pool grows while jobs wait).
    if (r.record.kind != ResourceKind::kAgent && !tm.record.shape.FitsIn(r.record.capacity)) {
      continue;
    }
    any_possible = true;
    bool eligible = pos == 0 || waited >= burst_after;
    if (!eligible || !tm.record.shape.FitsIn(r.free)) continue;
    Presence data = job.spec.datasets.empty() ? Presence{} : DataOn(tm.res, job);
    bool better = best < 0 || data.ready > best_data.ready ||
                  (data.ready == best_data.ready && data.filling > best_data.filling);
    if (better) {
      best = t;
      best_pos = pos;
      best_data = data;
    }
  }
  if (!any_possible) {
    d.impossible = true;
    d.why = "no template of " + from +
            " exists on a known resource with room for its shape (see 'proxima template ls')";
    return d;
  }
  if (best < 0) {
    if (!explain_wait) return d;
    std::string why = "waiting for room:";
    for (size_t pos = 0; pos < names->size(); ++pos) {
      int t = TemplateIndex((*names)[pos]);
      if (t < 0 || tmpl_[t].res < 0) continue;
      const Tmpl& tm = tmpl_[t];
      const Res& r = res_[tm.res];
      why += pos == 0 ? " " : "; ";
      why += Quote(tm.record.name) + " on " + Quote(r.record.name);
      if (pos > 0 && waited < burst_after) {
        why += " bursts after " + FormatDuration(burst_after) + " (in " +
               FormatDuration(burst_after - waited) + ")";
      } else {
        why += " needs " + DescribeShape(tm.record.shape) + ", " +
               DescribeShape({std::max<int64_t>(r.free.millicpus, 0), r.free.memory_bytes,
                              std::max<int64_t>(r.free.gpus, 0)}) +
               " free";
      }
    }
    d.why = std::move(why);
    return d;
  }

  Tmpl& tm = tmpl_[best];
  Res& r = res_[tm.res];
  d.placed = true;
  d.template_name = tm.record.name;
  d.resource = r.record.name;
  d.why = Quote(tm.record.name) + " on " + Quote(r.record.name) + " (position " +
          std::to_string(best_pos + 1) + " of " + std::to_string(names->size()) + " in " + from +
          ")";
  if (!job.spec.datasets.empty()) {
    d.why += "; data there: " + HumanBytes(best_data.ready) + " in ready caches";
    if (best_data.filling > 0) d.why += ", " + HumanBytes(best_data.filling) + " being filled";
  }
  if (best_pos > 0) {
    d.why += waited >= burst_after && burst_after > 0
                 ? "; burst after waiting " + FormatDuration(waited)
                 : "; earlier templates had less room or less of the data";
  }

  // Reserve, and recount the templates that still fit on this resource.
  for (const Tmpl& other : tmpl_) {
    if (other.res == tm.res && other.record.shape.FitsIn(r.free)) --templates_that_fit_;
  }
  r.free = Minus(r.free, tm.record.shape);
  for (const Tmpl& other : tmpl_) {
    if (other.res == tm.res && other.record.shape.FitsIn(r.free)) ++templates_that_fit_;
  }
  return d;
}

}  // namespace proxima
