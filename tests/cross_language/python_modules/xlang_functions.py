"""Python functions and an actor that the C++ cross-language test calls (ray::PyFunction,
ray::PyActorClass): imported by name from the job's code_search_path."""


def add(a, b):
    return a + b


def join(words, separator):
    return separator.join(words)


def doubled(counts):
    return {name: 2 * value for name, value in counts.items()}


def fail(message):
    raise ValueError(message)


def no_msgpack_form():
    return {1, 2, 3}  # a set: msgpack has none


class Counter:
    def __init__(self, start):
        self.value = start

    def add(self, n):
        self.value += n
        return self.value

    def get(self):
        return self.value

    def fail(self):
        raise KeyError("no such counter")
