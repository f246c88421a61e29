"""microlearn's benchmarks: measurement machinery kept out of the user-facing host package.

    .venv/bin/python -m benchmarks.trees    # trees against the alternatives (make bench)
    .venv/bin/python -m benchmarks.dsp      # the DSP blocks in C against Python

Run from the root of the checkout; they use the `microlearn` host package and its targets.
"""
