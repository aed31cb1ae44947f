// Integration tests of the raylet: in progress.
