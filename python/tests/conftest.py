import os
import sys

# The build tree's package (build/python) comes first when ctest sets PYTHONPATH; running pytest
# by hand from the source tree, point PYTHONPATH at <build>/python.
sys.path.insert(0, os.environ.get("OTLPD_PYTHONPATH", ""))
