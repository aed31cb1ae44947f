"""ObjectRef: a reference to an object in the cluster, counted like the C++ API's."""

import asyncio

from moray import _moray_core as core


class ObjectRef:
    __slots__ = ("_id", "__weakref__")

    def __init__(self, binary_id):
        if not isinstance(binary_id, bytes) or len(binary_id) != 20:
            raise ValueError("an ObjectRef id is 20 bytes")
        self._id = binary_id
        core.add_reference(binary_id)

    def __del__(self):
        try:
            core.remove_reference(self._id)
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing is counted any more
            pass

    def binary(self):
        return self._id

    def hex(self):
        return self._id.hex()

    def task_id(self):
        return self._id[:-4]

    def __eq__(self, other):
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self):
        return hash(self._id)

    def __repr__(self):
        return f"ObjectRef({self.hex()})"

    def __reduce__(self):
        # Inside a value: the owner learns of the receiver (the core lists this ref beside it).
        return _rebuild, (self._id, core.owner_address(self._id))

    def future(self):
        """A concurrent.futures.Future of the value."""
        import concurrent.futures
        import threading

        from moray import get

        future = concurrent.futures.Future()

        def fetch():
            try:
                future.set_result(get(self))
            except BaseException as e:  # noqa: BLE001 - handed to the future's reader
                future.set_exception(e)

        threading.Thread(target=fetch, daemon=True).start()
        return future

    def __await__(self):
        from moray import get

        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, get, self).__await__()


def _rebuild(binary_id, owner_address):
    if owner_address:
        core.register_borrowed(binary_id, owner_address)
    return ObjectRef(binary_id)
