import os
import sys

# ctest puts the build tree's package (build/python) on PYTHONPATH; by hand, either set
# PYTHONPATH=<build>/python or OTLPD_PYTHONPATH to that directory.
if os.environ.get("OTLPD_PYTHONPATH"):
    sys.path.insert(0, os.environ["OTLPD_PYTHONPATH"])
