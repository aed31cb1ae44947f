"""`python -m moray._worker`: what a raylet starts to run Python tasks and actors."""

from moray._private import executor

if __name__ == "__main__":
    executor.main()
