# Runtime environments, in the primer's spirit (Ray's basic example): the job's environment
# variables and working directory reach its tasks and actors; a task or actor can add its own.
import os
import tempfile

import moray as ray

code = tempfile.mkdtemp(dir=os.getcwd())  # inside the test's sandbox, removed with it
with open(os.path.join(code, "greeting.txt"), "w") as f:
    f.write("hello from the working_dir")

ray.init(runtime_env={"working_dir": code, "env_vars": {"GREETING": "hello"}})


@ray.remote
def greet():
    with open("greeting.txt") as f:  # the working_dir is the worker's current directory
        return os.environ["GREETING"], f.read()


@ray.remote
class Greeter:
    def greet(self):
        return os.environ["GREETING"]


print("task:", ray.get(greet.remote()))
print("task with its own env_vars:",
      ray.get(greet.options(runtime_env={"env_vars": {"GREETING": "hi"}}).remote())[0])
greeter = Greeter.options(runtime_env={"env_vars": {"GREETING": "bonjour"}}).remote()
print("actor:", ray.get(greeter.greet.remote()))
