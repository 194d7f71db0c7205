// `proxima compute|template|queue ...`: the compute resources, the shapes
// jobs ask for, and the queues that order them (docs/scheduler.md).
#include "proxima/cli/compute_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "proxima/base/units.h"
#include "proxima/cli/context.h"
#include "proxima/core/placement.h"
#include "proxima/core/scheduler.h"
#include "proxima/model/names.h"
#include "proxima/ports/compute_codec.h"

namespace proxima {

namespace {

using nlohmann::json;

struct ComputeArgs {
  std::string name, kind = "local", resource, partition, image, memory, config = "{}";
  std::string templates, burst_after = "0s";
  double cpus = 0;
  int64_t gpus = 0;
};

Status OpenWithDefaults(CommandContext& ctx) {
  PROXIMA_RETURN_IF_ERROR(ctx.OpenCompute());
  Status st =
      EnsureDefaultCompute(ctx.compute(), ctx.env.local_capacity, ctx.env.clock->NowUnixNanos());
  // Through a hub the hub records them; a user who is no admin cannot.
  if (st.code() == StatusCode::kPermissionDenied) return Status::Ok();
  return st;
}

Result<Shape> ShapeOf(const ComputeArgs& a, const char* what) {
  Shape s;
  if (a.cpus < 0 || a.cpus > 1e9) return Status::InvalidArgument(std::string(what) + ": --cpus");
  s.millicpus = static_cast<int64_t>(a.cpus * 1000 + 0.5);
  if (!a.memory.empty()) {
    PROXIMA_ASSIGN_OR_RETURN(s.memory_bytes, ParseByteSize(a.memory, "--memory"));
  }
  if (a.gpus < 0) return Status::InvalidArgument("--gpus must not be negative");
  s.gpus = a.gpus;
  return s;
}

int Print(CommandContext& ctx, const std::string& encoded, const std::string& text) {
  if (ctx.json) {
    std::printf("%s\n", json::parse(encoded).dump(2).c_str());
  } else if (!ctx.quiet) {
    std::printf("%s", text.c_str());
  }
  return 0;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// ---- resources ----

int CmdComputeAdd(CommandContext& ctx, const ComputeArgs& a) {
  if (Status s = ValidateDatasetName(a.name); !s.ok()) {
    return ReportError(Status::InvalidArgument("resource name: " + s.message()));
  }
  auto kind = ParseResourceKind(a.kind);
  if (!kind || *kind == ResourceKind::kKubernetes) {
    return ReportError(
        Status::InvalidArgument("--kind: local, agent or slurm (not '" + a.kind + "')"));
  }
  auto shape = ShapeOf(a, "the resource");
  if (!shape.ok()) return ReportError(shape.status());
  if (*kind == ResourceKind::kLocal && shape->millicpus == 0) {
    *shape = ctx.env.local_capacity;  // this machine
  }
  json config = json::parse(a.config, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return ReportError(Status::InvalidArgument("--config must be a JSON object"));
  }
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  ResourceRecord r{a.name, *kind, *shape, config.dump(), ctx.env.clock->NowUnixNanos()};
  if (Status s = ctx.compute().CreateResource(r); !s.ok()) return ReportError(s);
  return Print(ctx, EncodeResource(r),
               "added compute resource '" + r.name + "' (" + a.kind + ", " +
                   DescribeShape(r.capacity) + ")\n");
}

int CmdComputeLs(CommandContext& ctx) {
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  auto all = ctx.compute().ListResources();
  if (!all.ok()) return ReportError(all.status());
  auto active = ctx.compute().ListActiveJobs();
  auto templates = ctx.compute().ListTemplates();
  json out = json::array();
  if (!ctx.json) std::printf("%-16s %-7s %-28s %6s  %s\n", "NAME", "KIND", "CAPACITY", "JOBS", "");
  for (const ResourceRecord& r : *all) {
    size_t jobs = 0;
    if (active.ok()) {
      for (const JobRecord& j : *active) jobs += j.resource == r.name ? 1 : 0;
    }
    if (ctx.json) {
      json j = json::parse(EncodeResource(r));
      j["active_jobs"] = jobs;
      out.push_back(j);
      continue;
    }
    std::printf("%-16s %-7s %-28s %6zu\n", r.name.c_str(),
                std::string(ResourceKindName(r.kind)).c_str(), DescribeShape(r.capacity).c_str(),
                jobs);
  }
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int CmdComputeShow(CommandContext& ctx, const std::string& name) {
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  auto r = ctx.compute().GetResource(name);
  if (!r.ok()) return ReportError(r.status());
  std::string text = "resource " + r->name + "\n  kind      " +
                     std::string(ResourceKindName(r->kind)) + "\n  capacity  " +
                     DescribeShape(r->capacity) + "\n  config    " + r->config + "\n";
  if (auto templates = ctx.compute().ListTemplates(); templates.ok()) {
    for (const TemplateRecord& t : *templates) {
      if (t.resource == r->name)
        text += "  template  " + t.name + " (" + DescribeShape(t.shape) + ")\n";
    }
  }
  return Print(ctx, EncodeResource(*r), text);
}

int CmdComputeRm(CommandContext& ctx, const std::string& name) {
  if (Status s = ctx.OpenCompute(); !s.ok()) return ReportError(s);
  if (Status s = ctx.compute().DeleteResource(name); !s.ok()) return ReportError(s);
  if (!ctx.quiet) std::printf("removed compute resource '%s'\n", name.c_str());
  return 0;
}

// ---- templates ----

int CmdTemplateAdd(CommandContext& ctx, const ComputeArgs& a) {
  if (Status s = ValidateDatasetName(a.name); !s.ok()) {
    return ReportError(Status::InvalidArgument("template name: " + s.message()));
  }
  auto shape = ShapeOf(a, "the template");
  if (!shape.ok()) return ReportError(shape.status());
  if (shape->millicpus <= 0) {
    return ReportError(
        Status::InvalidArgument("--cpus: a template needs some CPU (e.g. --cpus 1)"));
  }
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  TemplateRecord t{a.name, a.resource, *shape, a.partition, a.image, ctx.env.clock->NowUnixNanos()};
  if (Status s = ctx.compute().CreateTemplate(t); !s.ok()) return ReportError(s);
  return Print(ctx, EncodeTemplate(t),
               "added template '" + t.name + "': " + DescribeShape(t.shape) + " on '" + t.resource +
                   "'" + (t.partition.empty() ? "" : ", partition " + t.partition) +
                   (t.image.empty() ? "" : ", image " + t.image) + "\n");
}

int CmdTemplateLs(CommandContext& ctx) {
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  auto all = ctx.compute().ListTemplates();
  if (!all.ok()) return ReportError(all.status());
  json out = json::array();
  if (!ctx.json) {
    std::printf("%-16s %-16s %-28s %-10s %s\n", "NAME", "RESOURCE", "SHAPE", "PARTITION", "IMAGE");
  }
  for (const TemplateRecord& t : *all) {
    if (ctx.json) {
      out.push_back(json::parse(EncodeTemplate(t)));
      continue;
    }
    std::printf("%-16s %-16s %-28s %-10s %s\n", t.name.c_str(), t.resource.c_str(),
                DescribeShape(t.shape).c_str(), t.partition.empty() ? "-" : t.partition.c_str(),
                t.image.empty() ? "-" : t.image.c_str());
  }
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int CmdTemplateShow(CommandContext& ctx, const std::string& name) {
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  auto t = ctx.compute().GetTemplate(name);
  if (!t.ok()) return ReportError(t.status());
  return Print(ctx, EncodeTemplate(*t),
               "template " + t->name + "\n  resource   " + t->resource + "\n  shape      " +
                   DescribeShape(t->shape) + "\n  partition  " +
                   (t->partition.empty() ? "-" : t->partition) + "\n  image      " +
                   (t->image.empty() ? "-" : t->image) + "\n");
}

int CmdTemplateRm(CommandContext& ctx, const std::string& name) {
  if (Status s = ctx.OpenCompute(); !s.ok()) return ReportError(s);
  if (Status s = ctx.compute().DeleteTemplate(name); !s.ok()) return ReportError(s);
  if (!ctx.quiet) std::printf("removed template '%s'\n", name.c_str());
  return 0;
}

// ---- queues ----

int CmdQueueAdd(CommandContext& ctx, const ComputeArgs& a) {
  if (Status s = ValidateDatasetName(a.name); !s.ok()) {
    return ReportError(Status::InvalidArgument("queue name: " + s.message()));
  }
  QueueRecord q;
  q.name = a.name;
  size_t start = 0;
  while (start <= a.templates.size()) {
    size_t comma = a.templates.find(',', start);
    if (comma == std::string::npos) comma = a.templates.size();
    std::string one = a.templates.substr(start, comma - start);
    if (one.empty()) {
      return ReportError(Status::InvalidArgument("--templates: a comma-separated list of names"));
    }
    q.templates.push_back(one);
    start = comma + 1;
  }
  auto burst = ParseDuration(a.burst_after, "--burst-after");
  if (!burst.ok()) return ReportError(burst.status());
  q.burst_after_ns = *burst;
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  q.created_unix_ns = ctx.env.clock->NowUnixNanos();
  if (Status s = ctx.compute().CreateQueue(q); !s.ok()) return ReportError(s);
  return Print(ctx, EncodeQueue(q),
               "added queue '" + q.name + "': " + Joined(q.templates) +
                   (q.templates.size() > 1
                        ? " (the later ones after " + FormatDuration(q.burst_after_ns) + ")"
                        : "") +
                   "\n");
}

int CmdQueueLs(CommandContext& ctx) {
  if (Status s = OpenWithDefaults(ctx); !s.ok()) return ReportError(s);
  auto all = ctx.compute().ListQueues();
  if (!all.ok()) return ReportError(all.status());
  auto active = ctx.compute().ListActiveJobs();
  json out = json::array();
  if (!ctx.json)
    std::printf("%-16s %-8s %-8s %-11s %s\n", "NAME", "QUEUED", "RUNNING", "BURST AFTER",
                "TEMPLATES");
  for (const QueueRecord& q : *all) {
    size_t queued = 0, running = 0;
    if (active.ok()) {
      for (const JobRecord& j : *active) {
        if (j.spec.queue != q.name) continue;
        (j.state == JobState::kQueued ? queued : running) += 1;
      }
    }
    if (ctx.json) {
      json j = json::parse(EncodeQueue(q));
      j["queued"] = queued;
      j["active"] = running;
      out.push_back(j);
      continue;
    }
    std::printf("%-16s %-8zu %-8zu %-11s %s\n", q.name.c_str(), queued, running,
                FormatDuration(q.burst_after_ns).c_str(), Joined(q.templates).c_str());
  }
  if (ctx.json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int CmdQueueRm(CommandContext& ctx, const std::string& name) {
  if (Status s = ctx.OpenCompute(); !s.ok()) return ReportError(s);
  if (Status s = ctx.compute().DeleteQueue(name); !s.ok()) return ReportError(s);
  if (!ctx.quiet) std::printf("removed queue '%s'\n", name.c_str());
  return 0;
}

}  // namespace

void AddComputeCommands(CLI::App& app, CommandContext& ctx, int* rc) {
  static ComputeArgs a;
  auto json_flag = [&](CLI::App* cmd) { cmd->add_flag("--json", ctx.json, "Print JSON"); };
  auto shape_options = [&](CLI::App* cmd, const char* what) {
    cmd->add_option("--cpus", a.cpus, std::string("CPUs ") + what + " (fractions allowed)");
    cmd->add_option("--memory", a.memory, std::string("Memory ") + what + " (32G, 512Mi)");
    cmd->add_option("--gpus", a.gpus, std::string("GPUs ") + what);
  };

  CLI::App* compute = app.add_subcommand("compute", "Compute resources jobs run on");
  compute->require_subcommand(1);
  CLI::App* add = compute->add_subcommand("add", "Register a compute resource");
  add->add_option("NAME", a.name, "Its name")->required();
  add->add_option("--kind", a.kind, "local, agent or slurm (default local)");
  shape_options(add, "it offers (local default: this machine's)");
  add->add_option("--config", a.config,
                  "The executor's settings, a JSON object (docs/scheduler.md)");
  json_flag(add);
  add->callback([&, rc] { *rc = CmdComputeAdd(ctx, a); });
  CLI::App* ls = compute->add_subcommand("ls", "List compute resources, their capacity and jobs");
  json_flag(ls);
  ls->callback([&, rc] { *rc = CmdComputeLs(ctx); });
  CLI::App* show = compute->add_subcommand("show", "A resource's kind, capacity and templates");
  show->add_option("NAME", a.name, "The resource")->required();
  json_flag(show);
  show->callback([&, rc] { *rc = CmdComputeShow(ctx, a.name); });
  CLI::App* rm = compute->add_subcommand("rm", "Remove a resource (its templates first)");
  rm->add_option("NAME", a.name, "The resource")->required();
  rm->callback([&, rc] { *rc = CmdComputeRm(ctx, a.name); });

  CLI::App* tmpl = app.add_subcommand("template", "Compute templates: shapes on a resource");
  tmpl->require_subcommand(1);
  CLI::App* tadd = tmpl->add_subcommand("add", "Name a shape on a resource");
  tadd->add_option("NAME", a.name, "Its name")->required();
  tadd->add_option("--resource", a.resource, "The resource it runs on")->required();
  shape_options(tadd, "a job gets");
  tadd->add_option("--partition", a.partition, "Slurm partition");
  tadd->add_option("--image", a.image, "Container image jobs run in (podman)");
  json_flag(tadd);
  tadd->callback([&, rc] { *rc = CmdTemplateAdd(ctx, a); });
  CLI::App* tls = tmpl->add_subcommand("ls", "List templates");
  json_flag(tls);
  tls->callback([&, rc] { *rc = CmdTemplateLs(ctx); });
  CLI::App* tshow = tmpl->add_subcommand("show", "A template's shape, resource and image");
  tshow->add_option("NAME", a.name, "The template")->required();
  json_flag(tshow);
  tshow->callback([&, rc] { *rc = CmdTemplateShow(ctx, a.name); });
  CLI::App* trm = tmpl->add_subcommand("rm", "Remove a template (from its queues first)");
  trm->add_option("NAME", a.name, "The template")->required();
  trm->callback([&, rc] { *rc = CmdTemplateRm(ctx, a.name); });

  CLI::App* queue = app.add_subcommand("queue", "Queues: templates in order of preference");
  queue->require_subcommand(1);
  CLI::App* qadd = queue->add_subcommand("add", "Add a queue");
  qadd->add_option("NAME", a.name, "Its name")->required();
  qadd->add_option("--templates", a.templates, "Templates, comma-separated, first preferred")
      ->required();
  qadd->add_option("--burst-after", a.burst_after,
                   "A job may go to the later templates after waiting this long (10m; default 0: "
                   "at once)");
  json_flag(qadd);
  qadd->callback([&, rc] { *rc = CmdQueueAdd(ctx, a); });
  CLI::App* qls = queue->add_subcommand("ls", "List queues with their waiting and active jobs");
  json_flag(qls);
  qls->callback([&, rc] { *rc = CmdQueueLs(ctx); });
  CLI::App* qrm = queue->add_subcommand("rm", "Remove a queue");
  qrm->add_option("NAME", a.name, "The queue")->required();
  qrm->callback([&, rc] { *rc = CmdQueueRm(ctx, a.name); });
}

}  // namespace proxima
