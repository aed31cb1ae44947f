"""The process's connection to a cluster: driver or worker, set once by init or the worker."""

import threading

lock = threading.RLock()
connected = False
is_worker = False
info = {}        # job_id, node_id, worker_id, namespace, gcs_address, ...
namespace = ""

# The task running on each thread of a worker (its dict from the core), for the runtime context.
current = threading.local()
