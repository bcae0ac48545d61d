"""The one typed, versioned result schema (``schema``), its files (``files``: read with migration, write,
JSON Schema) and the migration of older schemas (``migrate``)."""

from truthstab.estimate import Estimate
from truthstab.results.files import dump_result, read_result, result_json_schema, write_result
from truthstab.results.schema import (
    SCHEMA_VERSION,
    DatasetRecord,
    DomainHeadline,
    EnvironmentRecord,
    HarnessRecord,
    Headline,
    ProtocolRecord,
    Result,
)

__all__ = [
    "SCHEMA_VERSION",
    "DatasetRecord",
    "DomainHeadline",
    "EnvironmentRecord",
    "Estimate",
    "HarnessRecord",
    "Headline",
    "ProtocolRecord",
    "Result",
    "dump_result",
    "read_result",
    "result_json_schema",
    "write_result",
]
