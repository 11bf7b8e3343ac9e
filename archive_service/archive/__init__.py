"""The archive feature (档案): items (件) with 档号, 归档章, 四性检测, 归档文件目录, retention, import.

It builds on the core and never imports the features above it (correspondence registers its letters
as a source, see ``sources``). ``feature.FEATURE`` declares it to the wiring layer.
"""
