"""What records are judged by, apart from the checker that judges them: a command that finds the last
verdict still valid (an unchanged re-run) names its rules without loading the checker and PyYAML."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bir.base.config import Config
    from bir.read.schemas import SchemaSet


@dataclass(frozen=True, slots=True)
class RuleSet:
    """What records are judged by: the configuration and the schemas of one point, and the day."""

    config: Config
    schemas: SchemaSet
    day: dt.date
    fingerprint: str = ""  # of the configuration's bytes and the schemas: what a cached verdict depends on
