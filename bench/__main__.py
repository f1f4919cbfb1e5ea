"""Run every benchmark: ``make bench`` (or ``python -m bench``)."""

from bench import core_bench

if __name__ == "__main__":
    core_bench.main()
