"""Run every benchmark: ``make bench`` (or ``python -m bench``)."""

from bench import core_bench, matching

if __name__ == "__main__":
    core_bench.main()
    if matching.DATA.is_dir():
        matching.main([])
    else:
        print(f"matching benchmark skipped: no Banking77 data at {matching.DATA} (GTMFB_BANKING77)")
