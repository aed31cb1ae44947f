// The Moray figures of the microbenchmark: zero-copy get latency of a 1 GiB object
// (moray::ByteView), cluster start to first task, worker start, and the memory of workers, the
// GCS, the raylet and the driver at rest and with 100k queued tasks. Unlike
// the Ray metrics these read /proc: the embedded cluster's GCS and raylet are children of the
// driver, and workers are children of the raylet. They run in fresh driver processes (this
// program re-executed with --child=<mode>), so "at rest" means a cluster that has run one task.
#pragma once

#include <string>

namespace moray::bench {

// The parent's part. `filter` is the --filter option ("" or "moray": every figure);
// `after_other_metrics`: also report what the Ray metrics left in this driver's cluster.
void RunMorayFigures(const std::string& filter, bool after_other_metrics);

// --child=first-task: call before ray::Init (it times Init). Returns the exit code.
int FirstTaskChild(int argc, char** argv);
// --child=figures: call after ray::Init, in a driver with a fresh private cluster.
void FiguresChild();

}  // namespace moray::bench
