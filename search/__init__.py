"""Full-text search: analysis, query parsing and engines over plain records.

This package never imports ``archive_service``; the indexer job in the core hands it plain records.
"""
