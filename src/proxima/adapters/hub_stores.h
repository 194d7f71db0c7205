#pragma once

#include <memory>

#include "proxima/adapters/hub_client.h"
#include "proxima/ports/cache_catalog.h"
#include "proxima/ports/compute_catalog.h"
#include "proxima/ports/object_store.h"
#include "proxima/ports/ref_store.h"

namespace proxima {

// The dataset catalog through the hub: refs move by the hub's
// compare-and-swap, which checks write access and that the commit exists in
// the store. Datasets the caller cannot read do not exist for it.
std::unique_ptr<RefStore> MakeHubRefStore(std::shared_ptr<HubClient> hub);

// The hub's object store, reached through the hub (which checks access and
// verifies every uploaded object). Keeps `PreferredConcurrency()` requests in
// flight for bulk work, like a network store.
std::unique_ptr<ObjectStore> MakeHubObjectStore(std::shared_ptr<HubClient> hub);

// Volumes, caches and leases kept by the hub. Rows move by the hub's
// compare-and-swap; caches of datasets the caller cannot read are invisible.
std::unique_ptr<CacheCatalog> MakeHubCacheCatalog(std::shared_ptr<HubClient> hub);

// Compute resources, templates, queues and jobs kept by the hub. Jobs are
// the caller's own (every job for a hub admin); PutJob only requests a
// cancellation.
std::unique_ptr<ComputeCatalog> MakeHubComputeCatalog(std::shared_ptr<HubClient> hub);

}  // namespace proxima
