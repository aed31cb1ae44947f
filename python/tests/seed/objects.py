import moray as ray
import time
from moray.exceptions import GetTimeoutError

# Put a value directly into the object store
y = 1
object_ref = ray.put(y)
assert ray.get(object_ref) == 1

# Retrieve multiple objects in parallel
assert ray.get([ray.put(i) for i in range(3)]) == [0, 1, 2]

# Example with a timeout
@ray.remote
def long_running_function():
    time.sleep(8)

obj_ref = long_running_function.remote()
try:
    ray.get(obj_ref, timeout=4)
except GetTimeoutError:
    print("`get` timed out.")
