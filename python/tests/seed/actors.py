import moray as ray

@ray.remote
class Counter:
    def __init__(self):
        self.value = 0
    def increment(self):
        self.value += 1
        return self.value
    def get_counter(self):
        return self.value

# Create an actor instance; this spawns a dedicated worker process
counter = Counter.remote()
