"""get_runtime_context(): who and where the calling code is."""

from moray import _moray_core as core
from moray._private import executor, state


class RuntimeContext:
    def get_job_id(self):
        return core.context()["job_id"]

    def get_node_id(self):
        return core.context()["node_id"]

    def get_worker_id(self):
        return core.context()["worker_id"]

    def get_task_id(self):
        task = getattr(state.current, "task", None)
        return task["task_id"].hex() if task else None

    def get_actor_id(self):
        task = getattr(state.current, "task", None)
        if task and task["actor_id"]:
            return task["actor_id"].hex()
        return None

    @property
    def namespace(self):
        return core.context()["namespace"] or state.namespace

    def get_namespace(self):
        return self.namespace

    @property
    def was_current_actor_reconstructed(self):
        return executor._actor_restarted

    @property
    def gcs_address(self):
        return core.context()["gcs_address"]

    def get(self):
        return {"job_id": self.get_job_id(), "node_id": self.get_node_id(),
                "namespace": self.namespace}


def get_runtime_context():
    if not state.connected:
        raise RuntimeError("moray is not initialized: call moray.init() first")
    return RuntimeContext()
