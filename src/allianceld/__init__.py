"""allianceld: a linked-data knowledge base of military alliances and partnerships."""

from importlib.metadata import PackageNotFoundError, version

from allianceld.config import Settings
from allianceld.store import KnowledgeBase

try:
    __version__ = version("allianceld")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["KnowledgeBase", "Settings", "__version__"]
