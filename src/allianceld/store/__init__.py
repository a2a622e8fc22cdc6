"""Storage: the KnowledgeBase over an embedded pyoxigraph store."""

from allianceld.store.knowledgebase import KnowledgeBase

__all__ = ["KnowledgeBase"]
