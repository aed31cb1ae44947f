# A driver for test_seed.py's CLI test: runs the primer's task and actor examples (tasks.py,
# actors.py) against the cluster in RAY_ADDRESS, then stays connected (so the Counter actor stays
# ALIVE) and answers commands on stdin: "state" prints moray.util.state's view as one JSON line,
# "exit" (or EOF) ends it.
import json
import os
import runpy
import sys

import moray as ray
from moray.util import state

here = os.path.dirname(os.path.abspath(__file__))
runpy.run_path(os.path.join(here, "tasks.py"))
counter = runpy.run_path(os.path.join(here, "actors.py"))["counter"]
assert ray.get(counter.increment.remote()) == 1
print(json.dumps({"job_id": ray.get_runtime_context().get_job_id()}), flush=True)

for line in sys.stdin:
    command = line.strip()
    if command == "state":
        print(json.dumps({
            "actors": state.list_actors(filters=[("class_name", "=", "Counter")]),
            "tasks": state.summarize_tasks(),
            "my_function": state.list_tasks(filters=[("func_or_class_name", "=", "my_function")],
                                            detail=True),
        }), flush=True)
    elif command == "exit":
        break
