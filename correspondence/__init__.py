"""Letters (函), meetings and minutes (纪要): drafting, sign-off, numbering, rendering, signing.

Built on the document core in ``archive_service``; nothing in the core imports this package.
"""
