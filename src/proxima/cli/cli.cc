#include <CLI/CLI.hpp>

#include "proxima/cli/cache_commands.h"
#include "proxima/cli/compute_commands.h"
#include "proxima/cli/context.h"
#include "proxima/cli/data_commands.h"
#include "proxima/cli/environment.h"
#include "proxima/cli/hub_commands.h"

namespace proxima {

namespace {

constexpr const char* kDataHelp = R"(Versioned datasets in the object store.

A folder is bound to a dataset with 'init' (or made by 'clone'); 'sync' uploads
what changed since the last sync and records a commit. Commits are named
NAME@ID (any unique prefix of 4+ hex digits), NAME@TAG, or NAME for the head.

  proxima data init xray ./xray        bind a folder to a (new) dataset
  proxima data sync -C ./xray -m "March scans"
  proxima data log xray
  proxima data diff xray@3f2a xray     what changed since 3f2a
  proxima data clone xray@v1 /nfs/xray-v1
)";

}  // namespace

int RunCli(int argc, char** argv, Environment& env) {
  CommandContext ctx(env);
  CLI::App app{
      "Proxima: datasets versioned in an object store, cached next to compute.\n"
      "Store and catalog live under $PROXIMA_HOME (default ~/.proxima).\n"
      "PROXIMA_STORE puts the store elsewhere: a folder, or s3://BUCKET/PREFIX with the\n"
      "endpoint and credentials read as the AWS SDKs read them (AWS_ENDPOINT_URL,\n"
      "AWS_PROFILE, ~/.aws/credentials). $PROXIMA_HOME/config.yaml may set them too\n"
      "(store:, s3: endpoint, region, profile, addressing, retry_seconds); see docs/s3.md.\n"
      "A team shares datasets through a hub: 'proxima server' runs one, and with --hub URL\n"
      "(or 'proxima login --hub URL') every data command goes through it; see docs/api.md."};
  app.name("proxima");
  app.require_subcommand(1);
  app.set_version_flag("--version", "proxima 0.1.0");
  app.add_flag("-q,--quiet", ctx.quiet, "Print only errors");
  app.add_flag("-v,--verbose", ctx.verbose, "List every change and skipped path");
  app.add_option("-j,--threads", ctx.threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(1, 256));
  app.add_option("--hub", env.hub_flag,
                 "Work through the hub at URL (default: PROXIMA_HUB or 'proxima login')");

  CLI::App* data = app.add_subcommand("data", kDataHelp);
  data->require_subcommand(1);
  data->fallthrough();  // -v, -q and -j work after the subcommand too
  auto add_dir = [&](CLI::App* cmd) {
    cmd->add_option("-C,--dir", ctx.dir, "The bound folder (default: the current one)");
  };
  auto add_json = [&](CLI::App* cmd) {
    cmd->add_flag("--json", ctx.json, "Print JSON for scripts");
  };
  int rc = 0;
  auto sub = [&](const char* n, const char* help) {
    CLI::App* cmd = data->add_subcommand(n, help);
    cmd->fallthrough();
    return cmd;
  };

  std::string name, dir = ".", spec, spec2, path, tag;
  SyncArgs sync_args;
  bool force = false, no_read_data = false;
  size_t limit = 0;

  CLI::App* init = sub("init", "Bind a folder to a dataset, creating it if new");
  init->add_option("NAME", name, "Dataset name: letters, digits, '.', '_', '-'")->required();
  init->add_option("DIR", dir, "The folder (default: the current one)");
  init->callback([&] { rc = CmdInit(ctx, name, dir); });

  CLI::App* sync = sub("sync", "Upload what changed in the bound folder and commit it");
  add_dir(sync);
  add_json(sync);
  sync->add_option("-m,--message", sync_args.message, "Commit message");
  sync->add_option("--metadata", sync_args.metadata, "Free-form JSON object stored in the commit");
  sync->add_flag("--force", sync_args.force,
                 "Commit on top of the dataset head even if the folder is behind it");
  sync->add_flag("--compress", sync_args.compress, "zstd-compress blobs that compress well");
  sync->add_flag("--full-scan", sync_args.full_scan,
                 "Look at every file, not only what the folder's watcher saw change");
  sync->callback([&] { rc = CmdSync(ctx, sync_args); });

  CLI::App* status = sub("status", "Show what a sync would commit");
  add_dir(status);
  add_json(status);
  bool full_scan = false;
  status->add_flag("--full-scan", full_scan,
                   "Look at every file, not only what the folder's watcher saw change");
  status->callback([&] { rc = CmdStatus(ctx, full_scan); });

  CLI::App* log = sub("log", "List the commits of a dataset, newest first");
  log->add_option("NAME", spec, "Dataset (or NAME@REV to start there)")->required();
  log->add_option("-n,--limit", limit, "Show at most N commits");
  add_json(log);
  log->callback([&] { rc = CmdLog(ctx, spec, limit); });

  CLI::App* ls = sub("ls", "List a folder of a commit");
  ls->add_option("NAME[@REV]", spec, "Dataset and commit (default: head)")->required();
  ls->add_option("PATH", path, "Folder or file inside the commit");
  add_json(ls);
  ls->callback([&] { rc = CmdLs(ctx, spec, path); });

  CLI::App* diff = sub("diff", "Files added, modified and deleted between commits");
  diff->add_option("FROM", spec, "NAME@REV")->required();
  diff->add_option("TO", spec2, "NAME@REV")->required();
  add_json(diff);
  diff->callback([&] { rc = CmdDiff(ctx, spec, spec2); });

  CLI::App* show = sub("show", "A commit's metadata and statistics");
  show->add_option("NAME[@REV]", spec, "Dataset and commit")->required();
  add_json(show);
  show->callback([&] { rc = CmdShow(ctx, spec); });

  CLI::App* tagc = sub("tag", "Name a commit");
  tagc->add_option("NAME@REV", spec, "Dataset and commit")->required();
  tagc->add_option("TAG", tag, "Tag name")->required();
  tagc->callback([&] { rc = CmdTag(ctx, spec, tag); });

  CLI::App* clone = sub("clone", "Materialize a commit into a new folder, verified, and bind it");
  clone->add_option("NAME[@REV]", spec, "Dataset and commit (default: head)")->required();
  clone->add_option("DIR", dir, "New folder (absent or empty)")->required();
  add_json(clone);
  clone->callback([&] { rc = CmdClone(ctx, spec, dir); });

  CLI::App* checkout = sub("checkout", "Switch the bound folder to another commit");
  checkout->add_option("REV", spec, "Commit id, tag, or NAME@REV (default: the dataset head)");
  checkout->add_flag("--force", force, "Discard changes that are not synced");
  add_dir(checkout);
  checkout->callback([&] { rc = CmdCheckout(ctx, spec, force); });

  CLI::App* list = sub("list", "List datasets with their heads, files and sizes");
  add_json(list);
  list->callback([&] { rc = CmdList(ctx); });

  CLI::App* fsck = sub("fsck", "Verify every object reachable from every ref (reads all data)");
  fsck->add_flag("--no-read-data", no_read_data, "Check structure and index only");
  add_json(fsck);
  fsck->callback([&] { rc = CmdFsck(ctx, !no_read_data); });

  AddWatchCommands(data, ctx, &rc);

  AddCacheCommands(app, ctx, &rc);
  AddComputeCommands(app, ctx, &rc);
  AddJobCommands(app, ctx, &rc);
  AddAgentCommand(app, ctx, &rc);
  HubArgs hub_args;
  AddHubCommands(app, ctx, hub_args, &rc);
  // Global options (--hub, -v, -j...) work after any subcommand too.
  std::function<void(CLI::App*)> fall = [&](CLI::App* a) {
    for (CLI::App* sub : a->get_subcommands({})) {
      sub->fallthrough();
      fall(sub);
    }
  };
  fall(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return rc;
}

}  // namespace proxima
