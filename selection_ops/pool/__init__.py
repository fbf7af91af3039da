"""The pool stage: read instruction pools in the formats users have into one canonical table.

Public API (used by the Dagster ``pool`` asset and the CLI):

- ``PoolSource``, ``PoolSpec``, ``default_pool_spec(data_dir, limit_per_source, seed)``, ``resolve_data_dir``
- ``load_pool(spec) -> DataFrame[id, conversation, source]``
- ``write_pool_parquet(df, path)``, ``read_pool_parquet(path)``
- the conversation model: ``check_conversation``, ``text_for_metrics``, ``text_for_embedding``, ``turn_pairs``,
  ``messages_for_training``, ``content_id``, ``text_content_id`` (``conversation_text`` is
  ``text_for_metrics``'s first name)
- ``RecordError`` (malformed record: file, position, field)
"""

from selection_ops.pool.conversation import (
    ROLES,
    Conversation,
    ConversationError,
    check_conversation,
    content_id,
    conversation_text,
    messages_for_training,
    text_content_id,
    text_for_embedding,
    text_for_metrics,
    turn_pairs,
)
from selection_ops.pool.errors import RecordError
from selection_ops.pool.formats import FORMATS, detect_format, parse_record
from selection_ops.pool.load import load_pool
from selection_ops.pool.spec import PoolSource, PoolSpec, default_pool_spec, resolve_data_dir
from selection_ops.pool.store import read_pool_parquet, write_pool_parquet

__all__ = [
    "FORMATS", "ROLES", "Conversation", "ConversationError", "PoolSource", "PoolSpec", "RecordError",
    "check_conversation", "content_id", "conversation_text", "default_pool_spec", "detect_format", "load_pool",
    "messages_for_training", "parse_record", "read_pool_parquet", "resolve_data_dir", "text_content_id",
    "text_for_embedding", "text_for_metrics", "turn_pairs", "write_pool_parquet",
]
