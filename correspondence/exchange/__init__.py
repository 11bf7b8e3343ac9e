"""审管互动 (第二十六至二十八条): the matter register, pushes of approval results with claim and
automatic claim, and revocation requests. A feature package of its own (``feature.py``), above the core."""
