"""``python -m pipeline``: the same command line as ``pulsecheck``."""

from pipeline.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    main()
