import pytest

import moray
from moray._private.deps import require

np = require("numpy", "python3-numpy")


def test_a_large_array_comes_back_as_a_read_only_view(cluster):
    array = np.arange(8 * 1024 * 1024, dtype=np.float64)  # 64 MiB
    ref = moray.put(array)
    out = moray.get(ref)
    assert out.shape == array.shape and out[12345] == 12345.0
    assert not out.flags.writeable  # a view into the object store, not a copy
    assert not out.flags.owndata
    with pytest.raises(ValueError):
        out[0] = 1


def test_a_task_reads_a_large_array_argument_without_a_copy(cluster):
    @moray.remote
    def inspect(a):
        return (float(a.sum()), bool(a.flags.writeable), bool(a.flags.owndata))

    array = np.ones(4 * 1024 * 1024, dtype=np.float32)
    total, writeable, owndata = moray.get(inspect.remote(moray.put(array)))
    assert total == float(array.size)
    assert not writeable and not owndata


def test_a_large_array_returned_by_a_task(cluster):
    @moray.remote
    def make(n):
        return np.full(n, 3, dtype=np.int32)

    out = moray.get(make.remote(1 << 22))
    assert out.size == 1 << 22 and int(out[-1]) == 3


def test_small_values_and_bytes(cluster):
    for value in [None, True, 0, -1, 2**70, 1.5, "text", b"\x00\xc1bytes", (1, 2), {1: "a"},
                  set([1, 2]), np.int64(3)]:
        assert moray.get(moray.put(value)) == value
