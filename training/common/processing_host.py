"""Which instance of a SageMaker processing job this is.

SageMaker Processing writes /opt/ml/config/resourceconfig.json into every container of a job:
`{"current_host": "algo-2", "hosts": ["algo-1", "algo-2", "algo-3"]}` ("How Amazon SageMaker
Processing Configures Your Processing Container",
https://docs.aws.amazon.com/sagemaker/latest/dg/build-your-own-processing-container.html). The
same page says not to rely on /etc/hostname or /etc/hosts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from training.common.errors import JobInputError

RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"


@dataclass(frozen=True)
class Host:
    name: str
    index: int  # 0-based, in the hosts' natural order (algo-2 before algo-10)
    count: int


def _natural(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def this_host(path: str | Path = RESOURCE_CONFIG) -> Host:
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
        hosts = sorted(config["hosts"], key=_natural)
        current = config["current_host"]
        return Host(current, hosts.index(current), len(hosts))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise JobInputError(f"cannot tell which processing instance this is from {path}: {error}") from None
