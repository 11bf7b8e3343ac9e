"""Handover (档案移交与接收, 第二十九条): manifests (移交清单) signed off by both sides, receipt checks,
custody transfer, BagIt packages.

Above the archive (it imports ``archive_service.archive`` and the core, never the features above it).
``feature.FEATURE`` declares it to the wiring layer.
"""
