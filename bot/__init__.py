"""scale-review: pull-request reviews by a senior scalability architect."""

__version__ = "0.1.0"
