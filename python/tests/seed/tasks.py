import moray as ray
import time

# Regular Python function
def normal_function():
    return 1

# Remote function – the @ray.remote decorator turns it into a Ray task
@ray.remote
def my_function():
    return 1

# Invoke the remote function; this returns an ObjectRef immediately
obj_ref = my_function.remote()
assert ray.get(obj_ref) == 1

# Example of a longer‑running task
@ray.remote
def slow_function():
    time.sleep(10)
    return 1

# Launch several tasks in parallel (non‑blocking)
for _ in range(4):
    slow_function.remote()
